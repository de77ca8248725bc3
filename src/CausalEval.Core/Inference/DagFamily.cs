using System.Collections.Concurrent;

namespace CausalEval.Core.Inference;

/// <summary>
/// Every signed DAG the signed-DAG generator can produce on <see cref="Variables"/> observables, enumerated once per
/// process: per DAG, each node's signed parent set (a base-3 code), the number of variable orders consistent with it
/// (its prior counts them), its edge count and its total-effect matrix (small integers with ±1 weights).
/// </summary>
/// <remarks>
/// Parent code of node j: Σ digit(w_ij)·3^k over the other nodes i in index order (k = i, or i − 1 when i &gt; j), with
/// digit 0 for no edge, 1 for +1, 2 for −1. A DAG's likelihood without a hidden root is a sum of per-(node, code)
/// terms, which is what makes scoring the whole family a few lookups per DAG.
/// </remarks>
internal sealed class DagFamily
{
    /// <summary>Exact enumeration is done up to this many observables (3,068,281 signed DAGs on 5).</summary>
    public const int MaxVariables = 5;

    private static readonly ConcurrentDictionary<int, Lazy<DagFamily>> Cache = new();

    private readonly Lazy<DagIndex> _index;
    private readonly Lazy<sbyte[]> _effects;
    private readonly Lazy<(ushort[] Ids, int[] Counts)> _outcomes;

    private DagFamily(int n, byte[] codes, byte[] orders, byte[] edgeCounts)
    {
        Variables = n;
        _index = new Lazy<DagIndex>(() => DagIndex.Build(this));
        // The total effects (n² bytes a DAG) and outcome ids (2n bytes) are computed from the codes when first read: a
        // report's truth view reads neither (107 MB on 5 variables), a run's observer both.
        _effects = new Lazy<sbyte[]>(ComputeEffects);
        _outcomes = new Lazy<(ushort[], int[])>(() => NumberOutcomes(Variables, Count, Effects, EffectBase));
        Codes = codes;
        // The orders and edge counts live on in the prior's index only (nothing else reads them): 6 MB less on 5 variables.
        Count = orders.Length;
        PriorIndices = new ushort[Count];
        for (var d = 0; d < Count; d++)
        {
            PriorIndices[d] = (ushort)(orders[d] * (n * (n - 1) / 2 + 1) + edgeCounts[d]);
        }
        CodesPerNode = Pow3(n - 1);
        EffectBase = (1 << (n - 2)) * 2 + 1;
        ParentsOfCode = new sbyte[CodesPerNode * n][];
        for (var j = 0; j < n; j++)
        {
            for (var c = 0; c < CodesPerNode; c++)
            {
                ParentsOfCode[j * CodesPerNode + c] = DecodeWeights(n, j, c);
            }
        }
    }

    public int Variables { get; }

    /// <summary>The trie over the DAGs' parent codes that branch-and-bound passes walk (built on first use).</summary>
    public DagIndex Index => _index.Value;

    public int Count { get; }

    /// <summary>3^(n−1): signed parent sets of one node.</summary>
    public int CodesPerNode { get; }

    /// <summary>[dag·n + j]: the signed parent code of node j.</summary>
    public byte[] Codes { get; }

    /// <summary>Variable orders consistent with the DAG (1 … n!), from its prior index.</summary>
    public int OrdersOf(int dag) => PriorIndices[dag] / (Variables * (Variables - 1) / 2 + 1);

    /// <summary>The DAG's number of edges, from its prior index.</summary>
    public int EdgesOf(int dag) => PriorIndices[dag] % (Variables * (Variables - 1) / 2 + 1);

    /// <summary>[dag·n² + i·n + t]: TE[i→t]; |TE| ≤ 2^(n−2) (the number of paths between two nodes). Computed on first use.</summary>
    public sbyte[] Effects => _effects.Value;

    /// <summary>2·2^(n−2) + 1: a base in which a row of total effects is a unique integer key.</summary>
    public int EffectBase { get; }

    /// <summary>
    /// [dag·n + x]: the outcome of an experiment on x in that DAG — its row TE[x→·] — numbered among the distinct rows
    /// the family has for x, so the posterior predictive over outcomes is a small array per x (cache-resident).
    /// Computed on first use.
    /// </summary>
    public ushort[] OutcomeIds => _outcomes.Value.Ids;

    /// <summary>[x]: distinct rows TE[x→·] in the family.</summary>
    public int[] OutcomeCounts => _outcomes.Value.Counts;

    /// <summary>[j·CodesPerNode + code]: the weight of each node i on node j (0 for j itself and non-parents), length n.</summary>
    public sbyte[][] ParentsOfCode { get; }

    public static DagFamily For(int variables)
    {
        if (variables is < 2 or > MaxVariables)
        {
            throw new ArgumentOutOfRangeException(nameof(variables), variables, $"exact enumeration supports 2 to {MaxVariables} variables");
        }
        return Cache.GetOrAdd(variables, n => new Lazy<DagFamily>(() => Enumerate(n))).Value;
    }

    public static int Factorial(int n) => n <= 1 ? 1 : n * Factorial(n - 1);

    /// <summary>Natural-log prior of each (orders, edges) pair: (orders / n!)·(p/2)^|E|·(1 − p)^(C(n,2) − |E|).</summary>
    public double[] LogPriorTable(double edgeProbability)
    {
        var pairs = Variables * (Variables - 1) / 2;
        var maxOrders = Factorial(Variables);
        var table = new double[(maxOrders + 1) * (pairs + 1)];
        var logEdge = Math.Log(edgeProbability / 2);
        var logNone = Math.Log(1 - edgeProbability);
        for (var o = 0; o <= maxOrders; o++)
        {
            for (var e = 0; e <= pairs; e++)
            {
                // 0·log 0 = 0: with p = 1 a full DAG has no "no edge" factor, with p = 0 the empty DAG no "edge" factor.
                var edgeTerm = e == 0 ? 0 : e * logEdge;
                var noneTerm = pairs - e == 0 ? 0 : (pairs - e) * logNone;
                table[o * (pairs + 1) + e] = o == 0 ? double.NegativeInfinity : Math.Log((double)o / maxOrders) + edgeTerm + noneTerm;
            }
        }
        return table;
    }

    public int PriorIndex(int dag) => PriorIndices[dag];

    /// <summary>[dag]: index into <see cref="LogPriorTable"/> (orders·(C(n,2) + 1) + edges).</summary>
    public ushort[] PriorIndices { get; }

    /// <summary>The signed adjacency of one DAG, row-major [from·n + to].</summary>
    public sbyte[] Adjacency(int dag)
    {
        var n = Variables;
        var adjacency = new sbyte[n * n];
        for (var j = 0; j < n; j++)
        {
            var weights = ParentsOfCode[j * CodesPerNode + Codes[dag * n + j]];
            for (var i = 0; i < n; i++)
            {
                adjacency[i * n + j] = weights[i];
            }
        }
        return adjacency;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // run once per process: straight to optimised code
    private static DagFamily Enumerate(int n)
    {
        // First the unsigned DAGs (parent masks, linear extensions, a topological order), then 2^|E| signings each.
        var full = (1 << n) - 1;
        var maskCount = 1 << (n - 1);
        var unsigned = new List<(int[] Masks, int Orders)>();
        var linear = new int[1 << n];
        var total = 0L;
        var candidate = new int[n];
        Assign(0);

        // Parent masks node by node; a cycle among the nodes assigned so far rules out every completion at once.
        void Assign(int j)
        {
            var prefix = (1 << (j + 1)) - 1;
            for (var m = 0; m < maskCount; m++)
            {
                candidate[j] = Expand(m, j);
                if (!Acyclic(candidate, j + 1, prefix))
                {
                    continue;
                }
                if (j < n - 1)
                {
                    Assign(j + 1);
                    continue;
                }
                var masks = (int[])candidate.Clone();
                // Linear extensions by dynamic programming over prefixes: ways[S ∪ {v}] += ways[S] when pa(v) ⊆ S.
                Array.Clear(linear);
                linear[0] = 1;
                for (var s = 0; s < full; s++)
                {
                    if (linear[s] == 0)
                    {
                        continue;
                    }
                    for (var v = 0; v < n; v++)
                    {
                        if ((s & (1 << v)) == 0 && (masks[v] & ~s) == 0)
                        {
                            linear[s | (1 << v)] += linear[s];
                        }
                    }
                }
                unsigned.Add((masks, linear[full]));
                total += 1L << masks.Sum(mask => System.Numerics.BitOperations.PopCount((uint)mask));
            }
        }

        var count = checked((int)total);
        var codes = new byte[count * n];
        var orders = new byte[count];
        var edgeCounts = new byte[count];
        var weights = new sbyte[n * n];
        var dag = 0;
        foreach (var (masks, linearExtensions) in unsigned)
        {
            var edgeList = new List<(int From, int To)>();
            for (var j = 0; j < n; j++)
            {
                for (var i = 0; i < n; i++)
                {
                    if ((masks[j] & (1 << i)) != 0)
                    {
                        edgeList.Add((i, j));
                    }
                }
            }
            for (var signs = 0; signs < 1 << edgeList.Count; signs++, dag++)
            {
                Array.Clear(weights);
                for (var e = 0; e < edgeList.Count; e++)
                {
                    weights[edgeList[e].From * n + edgeList[e].To] = (signs & (1 << e)) != 0 ? (sbyte)-1 : (sbyte)1;
                }
                for (var j = 0; j < n; j++)
                {
                    var code = 0;
                    var place = 1;
                    for (var i = 0; i < n; i++)
                    {
                        if (i == j)
                        {
                            continue;
                        }
                        code += (weights[i * n + j] switch { 1 => 1, -1 => 2, _ => 0 }) * place;
                        place *= 3;
                    }
                    codes[dag * n + j] = (byte)code;
                }
                orders[dag] = (byte)linearExtensions;
                edgeCounts[dag] = (byte)edgeList.Count;
            }
        }
        // Number the DAGs in trie order (lexicographic in the codes of nodes 0 … n − 1): a prefix's DAGs are then
        // contiguous ids, and a branch-and-bound pass reads the DAGs it keeps in increasing id order.
        var order = TrieOrder(codes, n, count, Pow3(n - 1));
        var sortedCodes = new byte[codes.Length];
        var sortedOrders = new byte[count];
        var sortedEdges = new byte[count];
        for (var d = 0; d < count; d++)
        {
            var from = order[d];
            Array.Copy(codes, from * n, sortedCodes, d * n, n);
            sortedOrders[d] = orders[from];
            sortedEdges[d] = edgeCounts[from];
        }
        return new DagFamily(n, sortedCodes, sortedOrders, sortedEdges);
    }

    /// <summary>Every DAG's total effects (<see cref="Effects"/>), from its parent codes: the weights, a topological order, then <see cref="TotalEffects"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // run once per process: straight to optimised code
    private sbyte[] ComputeEffects()
    {
        var n = Variables;
        var cells = n * n;
        var effects = new sbyte[(long)Count * cells];
        var weights = new sbyte[cells];
        var masks = new int[n];
        var order = new int[n];
        var te = new int[cells];
        for (var d = 0; d < Count; d++)
        {
            for (var j = 0; j < n; j++)
            {
                var parents = ParentsOfCode[j * CodesPerNode + Codes[d * n + j]];
                var mask = 0;
                for (var i = 0; i < n; i++)
                {
                    weights[i * n + j] = parents[i];
                    if (parents[i] != 0)
                    {
                        mask |= 1 << i;
                    }
                }
                masks[j] = mask;
            }
            TopologicalOrder(masks, order);
            TotalEffects(n, weights, order, te);
            for (var k = 0; k < cells; k++)
            {
                effects[(long)d * cells + k] = (sbyte)te[k];
            }
        }
        return effects;
    }

    /// <summary>DAG ids sorted by their codes (node 0's most significant): an LSD radix sort, one stable counting pass per node.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // run once per process: straight to optimised code
    private static int[] TrieOrder(byte[] codes, int n, int count, int codesPerNode)
    {
        var order = new int[count];
        var scratch = new int[count];
        for (var d = 0; d < count; d++)
        {
            order[d] = d;
        }
        var counts = new int[codesPerNode + 1];
        for (var node = n - 1; node >= 0; node--)
        {
            Array.Clear(counts);
            for (var p = 0; p < count; p++)
            {
                counts[codes[order[p] * n + node] + 1]++;
            }
            for (var c = 0; c < codesPerNode; c++)
            {
                counts[c + 1] += counts[c];
            }
            for (var p = 0; p < count; p++)
            {
                var d = order[p];
                scratch[counts[codes[d * n + node]]++] = d;
            }
            (order, scratch) = (scratch, order);
        }
        return order;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // run once per process: straight to optimised code
    private static (ushort[] Ids, int[] Counts) NumberOutcomes(int n, int count, sbyte[] effects, int b)
    {
        // A row is a key in base b (its entries offset to be non-negative); ids in order of first appearance.
        var offset = (b - 1) / 2;
        var size = 1;
        for (var y = 1; y < n; y++)
        {
            size *= b;
        }
        var ids = new ushort[count * n];
        var counts = new int[n];
        var map = new int[size];
        for (var x = 0; x < n; x++)
        {
            Array.Fill(map, -1);
            var next = 0;
            for (var d = 0; d < count; d++)
            {
                var row = (long)d * n * n + x * n;
                var key = 0;
                for (var y = 0; y < n; y++)
                {
                    if (y != x)
                    {
                        key = key * b + effects[row + y] + offset;
                    }
                }
                if (map[key] < 0)
                {
                    map[key] = checked((ushort)next++);
                }
                ids[d * n + x] = (ushort)map[key];
            }
            counts[x] = next;
        }
        return (ids, counts);
    }

    /// <summary>A mask over the n − 1 other nodes → a mask over all n nodes (bit j stays clear).</summary>
    private static int Expand(int compact, int j)
    {
        var low = compact & ((1 << j) - 1);
        var high = (compact >> j) << (j + 1);
        return low | high;
    }

    /// <summary>
    /// Whether nodes 0 … k − 1, with only the edges among them (<paramref name="within"/>), are acyclic: iff repeatedly
    /// removing the nodes whose parents are all removed removes every one.
    /// </summary>
    private static bool Acyclic(int[] parentMasks, int k, int within)
    {
        var placed = 0;
        while (placed != within)
        {
            var next = placed;
            for (var v = 0; v < k; v++)
            {
                if ((parentMasks[v] & within & ~placed) == 0)
                {
                    next |= 1 << v;
                }
            }
            if (next == placed)
            {
                return false;
            }
            placed = next;
        }
        return true;
    }

    private static void TopologicalOrder(int[] parentMasks, int[] order)
    {
        var placed = 0;
        for (var k = 0; k < order.Length; k++)
        {
            for (var v = 0; v < order.Length; v++)
            {
                if ((placed & (1 << v)) == 0 && (parentMasks[v] & ~placed) == 0)
                {
                    order[k] = v;
                    placed |= 1 << v;
                    break;
                }
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)] // run once per process: straight to optimised code
    private static void TotalEffects(int n, sbyte[] weights, int[] order, int[] te)
    {
        // TE[i, j] = Σ_{k ∈ pa(j)} (TE[i, k] + [i = k])·w_kj in topological order of j (as World does).
        Array.Clear(te);
        foreach (var j in order)
        {
            for (var k = 0; k < n; k++)
            {
                var w = weights[k * n + j];
                if (w == 0)
                {
                    continue;
                }
                for (var i = 0; i < n; i++)
                {
                    te[i * n + j] += (i == k ? 1 : te[i * n + k]) * w;
                }
            }
        }
    }

    private static sbyte[] DecodeWeights(int n, int j, int code)
    {
        var weights = new sbyte[n];
        for (var i = 0; i < n; i++)
        {
            if (i == j)
            {
                continue;
            }
            weights[i] = (code % 3) switch { 1 => 1, 2 => -1, _ => 0 };
            code /= 3;
        }
        return weights;
    }

    private static int Pow3(int k)
    {
        var r = 1;
        for (var i = 0; i < k; i++)
        {
            r *= 3;
        }
        return r;
    }
}
