using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CausalEval.Core.Inference;

/// <summary>
/// A branch-and-bound pass over <see cref="DagIndex"/>: finds every DAG whose log weight is within <c>margin</c> of the
/// best, visiting only subtrees whose upper bound reaches that far. The bound of a DAG is
/// <c>log prior + Σ_j bound[j, code_j]</c>; on a subtree the codes not yet fixed contribute their node's maximum and the
/// prior its maximum. The exact weight (<c>exact</c>) must not exceed the bound; without it the bound is the weight.
/// </summary>
/// <remarks>
/// Every DAG left out has exact weight below <c>found − margin ≤ best − margin</c> (<c>found</c> only grows and is always
/// an exact weight of some DAG), and every DAG within the margin of the best is kept whatever the visiting order or the
/// number of threads: the result is the set {d : w(d) ≥ best − margin}, listed in id order.
/// </remarks>
internal static class BranchAndBound
{
    /// <summary>An exact log weight given the DAG, its bound and a threshold; NaN when it is below the threshold.</summary>
    public delegate double Exact(int dag, double bound, double threshold, double[] scratch);

    /// <summary>
    /// The kept DAGs in id order with their log weights, the number left out and the best weight found; with
    /// <c>rows</c>, also each kept DAG's parent codes (n per DAG, the family's rows) and the largest kept weight
    /// (<see cref="MaxKept"/>), what <see cref="Posterior.Create"/> would otherwise gather and find.
    /// </summary>
    public sealed record Result(int[] Dags, double[] LogWeights, long Left, double Best)
    {
        public byte[]? Codes { get; init; }

        public double MaxKept { get; init; } = double.NegativeInfinity;
    }

    /// <summary>Found buffers longer than this are not kept for the next pass.</summary>
    private const int MaxReusedCapacity = 1 << 21;

    private static readonly ConcurrentBag<FoundBuffer> FoundBuffers = [];

    /// <param name="rows">
    /// Gather the kept DAGs' rows of codes while the walk reads them (one thread only; the parallel walk leaves them to
    /// <see cref="Posterior"/>). Outcome ids are not gathered here: only an information pass reads them, and a walk finds
    /// many more DAGs than it keeps (the posterior gathers the kept ones' when first asked, as it did before).
    /// </param>
    public static Result Run(DagFamily family, double[] bound, double[] logPrior, double margin, Exact? exact, int scratchLength, int threads,
        bool rows = false)
    {
        var index = family.Index;
        var n = family.Variables;
        var codesPerNode = family.CodesPerNode;
        // rest[k]: Σ_{j ≥ k} max_c bound[j, c]; the prior's best over the (orders, edges) pairs that occur.
        var rest = new double[n + 1];
        for (var j = n - 1; j >= 0; j--)
        {
            var max = double.NegativeInfinity;
            for (var c = 0; c < codesPerNode; c++)
            {
                max = Math.Max(max, bound[j * codesPerNode + c]);
            }
            rest[j] = rest[j + 1] + max;
        }
        var maxPrior = double.NegativeInfinity;
        foreach (var lp in logPrior)
        {
            maxPrior = Math.Max(maxPrior, lp);
        }

        // A first exact weight from a greedy descent (best term at each level) makes the threshold useful at once.
        var seedScratch = new double[scratchLength];
        var seed = Greedy(family, index, bound, logPrior, exact, seedScratch);

        var roots = index.Codes[0].Length;
        var parts = new Walker[roots];
        if (threads <= 1)
        {
            // The buffers of found DAGs are reused from pass to pass (grown to hundreds of thousands on a broad posterior, they
            // were most of a pass's garbage): a few for the whole process, not one per thread-pool thread.
            if (!FoundBuffers.TryTake(out var found))
            {
                found = new FoundBuffer();
            }
            found.Reset(rows ? n : 0);
            var walker = new Walker(family, index, bound, logPrior, rest, maxPrior, margin, exact, scratchLength, seed, found);
            for (var i = 0; i < roots; i++)
            {
                walker.Root(i);
            }
            var result = walker.Finish();
            // An exceptional pass (the hidden root's millions) does not pin its memory.
            if (found.Capacity <= MaxReusedCapacity && FoundBuffers.Count < Environment.ProcessorCount)
            {
                FoundBuffers.Add(found);
            }
            return result;
        }
        Parallel.For(0, roots, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            var fresh = new FoundBuffer();
            fresh.Reset(0);
            var walker = new Walker(family, index, bound, logPrior, rest, maxPrior, margin, exact, scratchLength, seed, fresh);
            walker.Root(i);
            parts[i] = walker;
        });
        var best = parts.Max(p => p.Found);
        var dags = new List<int>();
        var weights = new List<double>();
        long left = 0;
        foreach (var part in parts)
        {
            var r = part.Finish(best);
            dags.AddRange(r.Dags);
            weights.AddRange(r.LogWeights);
            left += r.Left;
        }
        return new Result([.. dags], [.. weights], left, best);
    }

    private static double Greedy(DagFamily family, DagIndex index, double[] bound, double[] logPrior, Exact? exact, double[] scratch)
    {
        var n = family.Variables;
        var codesPerNode = family.CodesPerNode;
        var levels = index.Codes.Length;
        int from = 0, to = index.Codes[0].Length;
        var partial = 0.0;
        var node = 0;
        for (var k = 0; k < levels; k++)
        {
            var best = double.NegativeInfinity;
            node = from;
            for (var i = from; i < to; i++)
            {
                var t = bound[k * codesPerNode + index.Codes[k][i]];
                if (t > best)
                {
                    best = t;
                    node = i;
                }
            }
            partial += best;
            if (k < levels - 1)
            {
                from = index.Children[k][node];
                to = index.Children[k][node + 1];
            }
        }
        var found = double.NegativeInfinity;
        var last = levels; // the node whose code varies under a deepest trie node
        for (var p = index.Starts[levels - 1][node]; p < index.Starts[levels - 1][node + 1]; p++)
        {
            var d = p;
            var b = partial + (last < n ? bound[last * codesPerNode + family.Codes[d * n + last]] : 0) + logPrior[family.PriorIndices[d]];
            var w = exact is null ? b : exact(d, b, double.NegativeInfinity, scratch);
            if (w > found)
            {
                found = w;
            }
        }
        return found;
    }

    /// <summary>The DAGs a walk found (and, when gathering, their rows of codes): arrays grown by doubling.</summary>
    private sealed class FoundBuffer
    {
        public int[] Dags = new int[1024];
        public double[] Weights = new double[1024];
        public byte[] Codes = [];
        public int Count;
        public int RowLength; // n when gathering rows, else 0

        public int Capacity => Dags.Length;

        public void Reset(int rowLength)
        {
            Count = 0;
            RowLength = rowLength;
            if (rowLength > 0 && Codes.Length < Dags.Length * rowLength)
            {
                Codes = new byte[Dags.Length * rowLength];
            }
        }

        public void Grow()
        {
            var capacity = Dags.Length * 2;
            Array.Resize(ref Dags, capacity);
            Array.Resize(ref Weights, capacity);
            if (RowLength > 0)
            {
                Array.Resize(ref Codes, capacity * RowLength);
            }
        }
    }

    private sealed class Walker(DagFamily family, DagIndex index, double[] bound, double[] logPrior, double[] rest,
        double maxPrior, double margin, Exact? exact, int scratchLength, double seed, FoundBuffer found)
    {
        private readonly double[] _scratch = new double[scratchLength];
        private readonly int _n = family.Variables;
        private readonly int _codesPerNode = family.CodesPerNode;
        private readonly int _levels = index.Codes.Length;
        private long _left;

        public double Found { get; private set; } = seed;

        public void Root(int i) => Visit(0, i, i + 1, 0);

        /// <summary>The kept DAGs within the margin of <paramref name="best"/>; the others count as left out.</summary>
        public Result Finish(double? best = null)
        {
            var top = best ?? Found;
            var floor = top - margin;
            // Exact arrays, counted first: on a broad posterior these are millions long (no list growth, no copies).
            var weightsFound = found.Weights.AsSpan(0, found.Count);
            var dagsFound = found.Dags.AsSpan(0, found.Count);
            var kept = 0;
            foreach (var w in weightsFound)
            {
                if (w >= floor)
                {
                    kept++;
                }
            }
            var dags = new int[kept];
            var weights = new double[kept];
            var n = found.RowLength;
            var codes = n > 0 ? new byte[kept * n] : null;
            var left = _left + (weightsFound.Length - kept);
            var at = 0;
            var maxKept = double.NegativeInfinity;
            for (var i = 0; i < weightsFound.Length; i++)
            {
                if (weightsFound[i] >= floor)
                {
                    if (codes is not null)
                    {
                        // Element by element: a memmove call per row of five bytes cost more than the copy.
                        for (var k = 0; k < n; k++)
                        {
                            codes[at * n + k] = found.Codes[i * n + k];
                        }
                    }
                    dags[at] = dagsFound[i];
                    weights[at++] = weightsFound[i];
                    maxKept = Math.Max(maxKept, weightsFound[i]); // in id order, as Posterior.Create's own pass
                }
            }
            return new Result(dags, weights, left, top) { Codes = codes, MaxKept = maxKept };
        }

        // Visit and Leaves are the walk's hot loops, optimised from the first call: in a process that keeps compiling new
        // methods (a report reads, computes statistics and draws plots meanwhile) their tier-up waited behind that
        // compilation, and a report spent about 0.5 s of CPU in their unoptimised code.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Visit(int level, int from, int to, double partial)
        {
            var codes = index.Codes[level];
            var starts = index.Starts[level];
            var ahead = rest[level + 1] + maxPrior;
            var row = level * _codesPerNode;
            for (var i = from; i < to; i++)
            {
                var s = partial + bound[row + codes[i]];
                if (s + ahead < Found - margin)
                {
                    _left += starts[i + 1] - starts[i];
                    continue;
                }
                if (level == _levels - 1)
                {
                    Leaves(starts[i], starts[i + 1], s);
                }
                else
                {
                    Visit(level + 1, index.Children[level][i], index.Children[level][i + 1], s);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Leaves(int from, int to, double partial)
        {
            var last = _levels; // the node whose code varies here (none when the trie covers every node)
            var row = last * _codesPerNode;
            ref var codes = ref MemoryMarshal.GetArrayDataReference(family.Codes);
            ref var priors = ref MemoryMarshal.GetArrayDataReference(family.PriorIndices);
            ref var prior = ref MemoryMarshal.GetArrayDataReference(logPrior);
            ref var terms = ref MemoryMarshal.GetArrayDataReference(bound);
            var rowLength = found.RowLength;
            for (var d = from; d < to; d++)
            {
                var b = partial + Unsafe.Add(ref prior, Unsafe.Add(ref priors, d));
                if (last < _n)
                {
                    b += Unsafe.Add(ref terms, row + Unsafe.Add(ref codes, d * _n + last));
                }
                var threshold = Found - margin;
                if (!(b >= threshold) || double.IsNegativeInfinity(b))
                {
                    _left++; // below the threshold, or no prior mass (not a hypothesis of this family)
                    continue;
                }
                var w = exact is null ? b : exact(d, b, threshold, _scratch);
                if (!(w >= threshold))
                {
                    _left++; // NaN: bounded below the threshold without the full computation
                    continue;
                }
                if (w > Found)
                {
                    Found = w;
                }
                if (found.Count == found.Dags.Length)
                {
                    found.Grow();
                }
                var at = found.Count++;
                found.Dags[at] = d;
                found.Weights[at] = w;
                if (rowLength > 0)
                {
                    // The DAG's row of codes was just read (its last code).
                    ref var codeRow = ref Unsafe.Add(ref codes, d * _n);
                    ref var codesTo = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(found.Codes), at * _n);
                    for (var k = 0; k < _n; k++)
                    {
                        Unsafe.Add(ref codesTo, k) = Unsafe.Add(ref codeRow, k);
                    }
                }
            }
        }
    }
}
