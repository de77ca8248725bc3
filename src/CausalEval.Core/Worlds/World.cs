using System.Globalization;
using System.Collections.Immutable;
using CausalEval.Core.Randomness;

namespace CausalEval.Core.Worlds;

/// <summary>
/// A linear-Gaussian structural causal model: <c>X_j = Σ w_ij·X_i + ε_j</c>, <c>ε_j ~ N(0, σ²)</c>.
/// Immutable; construction validates and precomputes the topological order and total effects.
/// </summary>
public sealed class World
{
    public const int MinVariables = 1;

    private readonly double[] _weights;      // [from * N + to]
    private readonly double[] _totalEffects; // [from * N + to], ((I − W)⁻¹ − I)
    private readonly int[] _topologicalOrder;
    private readonly int[][] _parents;
    private readonly Dictionary<string, int> _index;

    // Sample's plan, flat: the k-th variable in topological order is _topologicalOrder[k]; its parents (ascending, as in
    // _parents) and their weights are entries _parentStart[k] .. _parentStart[k + 1] of _sampleParents and _sampleWeights.
    private readonly int[] _parentStart;
    private readonly int[] _sampleParents;
    private readonly double[] _sampleWeights;

    private World(ImmutableArray<string> variables, ImmutableArray<Edge> edges, double noiseSd, ImmutableArray<string> hidden)
    {
        Variables = variables;
        Edges = edges;
        NoiseSd = noiseSd;
        Hidden = hidden;
        var n = variables.Length;
        _index = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            _index[variables[i]] = i;
        }
        _weights = new double[n * n];
        foreach (var edge in edges)
        {
            _weights[_index[edge.From] * n + _index[edge.To]] = edge.Weight;
        }
        _parents = new int[n][];
        for (var j = 0; j < n; j++)
        {
            var list = new List<int>();
            for (var i = 0; i < n; i++)
            {
                if (_weights[i * n + j] != 0)
                {
                    list.Add(i);
                }
            }
            _parents[j] = [.. list];
        }
        _topologicalOrder = TopologicalOrder(n, _parents) ?? throw new InvalidOperationException("validated world has a cycle");
        _totalEffects = ComputeTotalEffects(n, _weights, _topologicalOrder, _parents);
        _parentStart = new int[n + 1];
        _sampleParents = new int[_parents.Sum(p => p.Length)];
        _sampleWeights = new double[_sampleParents.Length];
        for (var k = 0; k < n; k++)
        {
            var j = _topologicalOrder[k];
            var at = _parentStart[k];
            foreach (var p in _parents[j])
            {
                (_sampleParents[at], _sampleWeights[at]) = (p, _weights[p * n + j]);
                at++;
            }
            _parentStart[k + 1] = at;
        }
        var isHidden = new bool[n];
        foreach (var h in hidden)
        {
            isHidden[_index[h]] = true;
        }
        IsHiddenByIndex = [.. isHidden];
        Observable = [.. variables.Where((_, i) => !isHidden[i])];
    }

    public ImmutableArray<string> Variables { get; }
    public ImmutableArray<Edge> Edges { get; }
    public double NoiseSd { get; }
    public ImmutableArray<string> Hidden { get; }

    /// <summary>The variables an agent may see and intervene on, in world order.</summary>
    public ImmutableArray<string> Observable { get; }

    internal ImmutableArray<bool> IsHiddenByIndex { get; }

    public int Count => Variables.Length;

    /// <summary>
    /// Builds a world, or returns the first problem as (field, message) — field is a JSON-style path.
    /// </summary>
    public static (World? World, string? Field, string? Problem) TryCreate(
        IReadOnlyList<string> variables, IReadOnlyList<Edge> edges, double noiseSd, IReadOnlyList<string> hidden)
    {
        if (variables.Count == 0)
        {
            return (null, "variables", "the variable list is empty");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < variables.Count; i++)
        {
            var name = variables[i];
            if (string.IsNullOrWhiteSpace(name))
            {
                return (null, $"variables[{i}]", "a variable name is empty");
            }
            if (name.IndexOfAny(['=', ',', '\n', '\r']) >= 0 || name.Contains("->", StringComparison.Ordinal))
            {
                return (null, $"variables[{i}]", $"variable name '{name}' contains '=', ',', '->' or a newline");
            }
            if (name != name.Trim())
            {
                return (null, $"variables[{i}]", $"variable name '{name}' has leading or trailing spaces");
            }
            if (!seen.Add(name))
            {
                return (null, $"variables[{i}]", $"duplicate variable name '{name}'");
            }
        }
        if (!double.IsFinite(noiseSd) || noiseSd < 0)
        {
            return (null, "noise_sd", $"must be a finite number ≥ 0, got {noiseSd}");
        }
        var pairs = new HashSet<(string, string)>();
        for (var e = 0; e < edges.Count; e++)
        {
            var edge = edges[e];
            if (!seen.Contains(edge.From))
            {
                return (null, $"edges[{e}].from", $"unknown variable '{edge.From}'");
            }
            if (!seen.Contains(edge.To))
            {
                return (null, $"edges[{e}].to", $"unknown variable '{edge.To}'");
            }
            if (edge.From == edge.To)
            {
                return (null, $"edges[{e}]", $"self-loop on '{edge.From}'");
            }
            if (!double.IsFinite(edge.Weight))
            {
                return (null, $"edges[{e}].weight", $"weight must be a finite number, got {edge.Weight}");
            }
            if (!pairs.Add((edge.From, edge.To)))
            {
                return (null, $"edges[{e}]", $"duplicate edge {edge.From}->{edge.To}");
            }
        }
        var hiddenSeen = new HashSet<string>(StringComparer.Ordinal);
        for (var h = 0; h < hidden.Count; h++)
        {
            if (!seen.Contains(hidden[h]))
            {
                return (null, $"hidden[{h}]", $"unknown variable '{hidden[h]}'");
            }
            if (!hiddenSeen.Add(hidden[h]))
            {
                return (null, $"hidden[{h}]", $"'{hidden[h]}' is listed twice");
            }
        }
        if (hiddenSeen.Count == variables.Count)
        {
            return (null, "hidden", "every variable is hidden");
        }
        var indexOf = variables.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i, StringComparer.Ordinal);
        var parents = new int[variables.Count][];
        for (var j = 0; j < variables.Count; j++)
        {
            parents[j] = [.. edges.Where(x => x.Weight != 0 && indexOf[x.To] == j).Select(x => indexOf[x.From])];
        }
        if (TopologicalOrder(variables.Count, parents) is null)
        {
            var cycle = FindCycle(variables, parents);
            return (null, "edges", $"the graph has a cycle: {string.Join(" -> ", cycle)}");
        }
        // Zero-weight edges are dropped: they are not causal links.
        var kept = edges.Where(x => x.Weight != 0).ToImmutableArray();
        var world = new World([.. variables], kept, noiseSd, [.. hidden]);
        // Finite weights can still multiply along a path past what a double holds (1e200 on a chain): every total effect,
        // and every value an intervention and the noise give, must stay a finite number.
        for (var i = 0; i < world.Count; i++)
        {
            for (var t = 0; t < world.Count; t++)
            {
                if (!(Math.Abs(world.TotalEffect(i, t)) <= MaxEffect))
                {
                    return (null, "edges", string.Create(CultureInfo.InvariantCulture,
                        $"the weights make the total effect of {variables[i]} on {variables[t]} {world.TotalEffect(i, t):G4}, beyond the largest the oracle computes ({MaxEffect:G0}); use smaller weights"));
                }
            }
        }
        return (world, null, null);
    }

    /// <summary>The largest total effect a world may have: room for interventions and noise to stay finite numbers.</summary>
    public const double MaxEffect = 1e100;

    /// <summary>Builds a world or throws <see cref="InputException"/> naming <paramref name="source"/>.</summary>
    public static World Create(IReadOnlyList<string> variables, IReadOnlyList<Edge> edges, double noiseSd = 0.1,
        IReadOnlyList<string>? hidden = null, string source = "world")
    {
        var (world, field, problem) = TryCreate(variables, edges, noiseSd, hidden ?? []);
        return world ?? throw new InputException(source, field!, problem!);
    }

    public int IndexOf(string variable)
    {
        // Built-in agents and the episode name variables by this world's own strings: a scan for the instance is cheaper
        // than hashing the name, and any other string is looked up by value.
        var names = Variables.AsSpan();
        for (var i = 0; i < names.Length; i++)
        {
            if (ReferenceEquals(names[i], variable))
            {
                return i;
            }
        }
        return _index.TryGetValue(variable, out var found) ? found : -1;
    }

    public bool IsObservable(string variable) => IndexOf(variable) is >= 0 and var i && !IsHiddenByIndex[i];

    /// <summary>Direct weight from → to (0 when there is no edge).</summary>
    public double Weight(int from, int to) => _weights[from * Count + to];

    /// <summary>Total causal effect of <paramref name="from"/> on <paramref name="to"/>: sum over directed paths of weight products.</summary>
    public double TotalEffect(int from, int to) => _totalEffects[from * Count + to];

    public double TotalEffect(string from, string to) => TotalEffect(Require(from), Require(to));

    /// <summary><c>E[X_target | do(X_variable = value)]</c>; exogenous noise has mean zero.</summary>
    public double ExpectedUnder(Intervention intervention, string target)
        => intervention.Value * TotalEffect(intervention.Variable, target);

    public bool HasEdge(string from, string to) => Weight(Require(from), Require(to)) != 0;

    /// <summary>
    /// Samples every variable (in world order) under an optional intervention. One noise draw is made per
    /// variable whatever the intervention, so agents acting differently on the same seed share noise.
    /// </summary>
    public void Sample(SeededRandom random, int intervened, double value, Span<double> output)
    {
        var n = Count;
        if (output.Length < n)
        {
            throw new ArgumentException("output is shorter than the variable count", nameof(output));
        }
        Span<double> noise = stackalloc double[n];
        random.NextGaussians(noise);
        // The same sums, in the same order, as Σ over _parents[j] of _weights[p·n + j]·x_p, from the flat plan.
        var order = _topologicalOrder;
        var start = _parentStart;
        var parents = _sampleParents;
        var weights = _sampleWeights;
        for (var k = 0; k < order.Length; k++)
        {
            var j = order[k];
            if (j == intervened)
            {
                output[j] = value;
                continue;
            }
            var x = noise[j] * NoiseSd;
            for (var e = start[k]; e < start[k + 1]; e++)
            {
                x += weights[e] * output[parents[e]];
            }
            output[j] = x;
        }
    }

    /// <summary>The same world without one direct edge (used for held-out-link reasoning).</summary>
    public World WithoutEdge(string from, string to)
        => new(Variables, [.. Edges.Where(e => !(e.From == from && e.To == to))], NoiseSd, Hidden);

    private int Require(string variable)
    {
        var i = IndexOf(variable);
        return i >= 0 ? i : throw new ArgumentException($"unknown variable '{variable}'", nameof(variable));
    }

    private static int[]? TopologicalOrder(int n, int[][] parents)
    {
        // Kahn's algorithm; ties broken by world order so the result is deterministic.
        var remainingParents = new int[n];
        var children = new List<int>[n];
        for (var j = 0; j < n; j++)
        {
            children[j] = [];
        }
        for (var j = 0; j < n; j++)
        {
            remainingParents[j] = parents[j].Length;
            foreach (var p in parents[j])
            {
                children[p].Add(j);
            }
        }
        var order = new List<int>(n);
        var ready = new SortedSet<int>(Enumerable.Range(0, n).Where(j => remainingParents[j] == 0));
        while (ready.Count > 0)
        {
            var next = ready.Min;
            ready.Remove(next);
            order.Add(next);
            foreach (var c in children[next])
            {
                if (--remainingParents[c] == 0)
                {
                    ready.Add(c);
                }
            }
        }
        return order.Count == n ? [.. order] : null;
    }

    private static List<string> FindCycle(IReadOnlyList<string> variables, int[][] parents)
    {
        var n = variables.Count;
        var state = new int[n]; // 0 new, 1 on stack, 2 done
        var stack = new List<int>();
        List<string>? found = null;
        void Visit(int j)
        {
            if (found is not null)
            {
                return;
            }
            state[j] = 1;
            stack.Add(j);
            foreach (var p in parents[j])
            {
                if (state[p] == 1)
                {
                    var start = stack.IndexOf(p);
                    // stack runs child → parent; reverse to print the causal direction.
                    var members = stack.Skip(start).Reverse().ToList();
                    // Start at the variable listed first in the world, so the message is stable.
                    var first = members.IndexOf(members.Min());
                    var cycle = members.Skip(first).Concat(members.Take(first)).Select(i => variables[i]).ToList();
                    cycle.Add(cycle[0]);
                    found = cycle;
                    return;
                }
                if (state[p] == 0)
                {
                    Visit(p);
                }
            }
            stack.RemoveAt(stack.Count - 1);
            state[j] = 2;
        }
        for (var j = 0; j < n && found is null; j++)
        {
            if (state[j] == 0)
            {
                Visit(j);
            }
        }
        return found ?? [];
    }

    private static double[] ComputeTotalEffects(int n, double[] weights, int[] order, int[][] parents)
    {
        // T[i, j] = Σ_{k ∈ pa(j)} (T[i, k] + [i = k]) · w_kj, filled in topological order of j.
        var te = new double[n * n];
        foreach (var j in order)
        {
            foreach (var k in parents[j])
            {
                var w = weights[k * n + j];
                for (var i = 0; i < n; i++)
                {
                    var reach = i == k ? 1.0 : te[i * n + k];
                    if (reach != 0)
                    {
                        te[i * n + j] += reach * w;
                    }
                }
            }
        }
        return te;
    }
}
