using CausalEval.Core.Randomness;

namespace CausalEval.Core.Worlds;

/// <summary>Options of the signed-DAG family (DESIGN §1.1).</summary>
public sealed record SignedDagOptions
{
    public const int MinVariables = 3;
    public const int MaxVariables = 8;

    /// <summary>Observable variables, named A, B, C, …</summary>
    public int Variables { get; init; } = 5;

    /// <summary>Chance that a pair (earlier, later) gets an edge; the sign is ±1 with equal chance. 2/3 is the paper's family.</summary>
    public double EdgeProbability { get; init; } = 2.0 / 3.0;

    public double NoiseSd { get; init; } = 0.1;

    /// <summary>Adds a hidden root <see cref="ConfounderName"/> with at least two observable children.</summary>
    public bool HiddenConfounder { get; init; }

    public IReadOnlyList<DirectedLink> RequiredLinks { get; init; } = [];

    public IReadOnlyList<DirectedLink> ForbiddenLinks { get; init; } = [];

    public const string ConfounderName = "U";

    public static string NameOf(int index) => ((char)('A' + index)).ToString();

    /// <summary>Returns a problem with these options, or null.</summary>
    public string? Validate()
    {
        if (Variables is < MinVariables or > MaxVariables)
        {
            return $"variables must be between {MinVariables} and {MaxVariables}, got {Variables}";
        }
        if (!double.IsFinite(EdgeProbability) || EdgeProbability is < 0 or > 1)
        {
            return $"edge_probability must be in [0, 1], got {EdgeProbability}";
        }
        if (!double.IsFinite(NoiseSd) || NoiseSd < 0)
        {
            return $"noise_sd must be ≥ 0, got {NoiseSd}";
        }
        var names = Enumerable.Range(0, Variables).Select(NameOf).ToHashSet();
        foreach (var link in RequiredLinks.Concat(ForbiddenLinks))
        {
            if (!names.Contains(link.From) || !names.Contains(link.To) || link.From == link.To)
            {
                return $"link {link} does not join two different variables of {string.Join(",", names.Order())}";
            }
        }
        if (RequiredLinks.Intersect(ForbiddenLinks).FirstOrDefault() is { From: not null } both)
        {
            return $"link {both} is both required and forbidden";
        }
        if (RequiredLinks.Count > 0 && EdgeProbability == 0)
        {
            return "required links need edge_probability > 0";
        }
        return null;
    }
}

/// <summary>
/// Draws worlds from the signed-DAG family: a random order of the variables, then for each pair
/// (earlier, later) independently a weight of −1, 0 or +1 (0 with probability 1 − p).
/// </summary>
public static class SignedDagGenerator
{
    public static World Generate(SignedDagOptions options, SeededRandom random)
    {
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }
        var n = options.Variables;
        var names = Enumerable.Range(0, n).Select(SignedDagOptions.NameOf).ToArray();
        var required = options.RequiredLinks.Select(l => (Array.IndexOf(names, l.From), Array.IndexOf(names, l.To))).ToArray();
        var forbidden = options.ForbiddenLinks.Select(l => (Array.IndexOf(names, l.From), Array.IndexOf(names, l.To))).ToArray();

        // Rejection on the order gives exactly the family conditioned on the required links being present.
        var order = new int[n];
        do
        {
            for (var i = 0; i < n; i++)
            {
                order[i] = i;
            }
            random.Shuffle(order.AsSpan());
        }
        while (!required.All(r => Array.IndexOf(order, r.Item1) < Array.IndexOf(order, r.Item2)));

        var pairChoices = new sbyte[n * (n - 1) / 2];
        var k = 0;
        for (var a = 0; a < n; a++)
        {
            for (var b = a + 1; b < n; b++)
            {
                var pair = (order[a], order[b]);
                var weight = DrawWeight(random, options.EdgeProbability, required.Contains(pair));
                pairChoices[k++] = forbidden.Contains(pair) ? (sbyte)0 : weight;
            }
        }
        var adjacency = new sbyte[n * n];
        FillAdjacency(order, pairChoices, adjacency);
        // Edges are listed row by row so that files do not depend on the drawn order.
        var edges = new List<Edge>();
        for (var i = 0; i < n * n; i++)
        {
            if (adjacency[i] != 0)
            {
                edges.Add(new Edge(names[i / n], names[i % n], adjacency[i]));
            }
        }
        var variables = names.ToList();
        var hidden = new List<string>();
        if (options.HiddenConfounder)
        {
            AddConfounder(random, options, names, variables, edges, hidden);
        }
        return World.Create(variables, edges, options.NoiseSd, hidden, "generator");
    }

    private static void AddConfounder(SeededRandom random, SignedDagOptions options, string[] names,
        List<string> variables, List<Edge> edges, List<string> hidden)
    {
        var p = options.EdgeProbability > 0 ? options.EdgeProbability : 2.0 / 3.0;
        var weights = new sbyte[names.Length];
        do
        {
            for (var i = 0; i < names.Length; i++)
            {
                weights[i] = DrawWeight(random, p, mustExist: false);
            }
        }
        while (weights.Count(w => w != 0) < 2);
        variables.Add(SignedDagOptions.ConfounderName);
        hidden.Add(SignedDagOptions.ConfounderName);
        for (var i = 0; i < names.Length; i++)
        {
            if (weights[i] != 0)
            {
                edges.Add(new Edge(SignedDagOptions.ConfounderName, names[i], weights[i]));
            }
        }
    }

    private static sbyte DrawWeight(SeededRandom random, double edgeProbability, bool mustExist)
    {
        // With p = 2/3 this is exactly "−1, 0 or +1 with probability 1/3 each".
        if (!mustExist && random.NextDouble() >= edgeProbability)
        {
            return 0;
        }
        return random.NextInt(2) == 0 ? (sbyte)-1 : (sbyte)1;
    }

    /// <summary>
    /// Lays one choice in {−1, 0, +1} per pair (earlier, later) of <paramref name="order"/> into a
    /// row-major signed adjacency matrix. Generation and the exact enumeration of the family share it.
    /// </summary>
    internal static void FillAdjacency(ReadOnlySpan<int> order, ReadOnlySpan<sbyte> pairChoices, Span<sbyte> adjacency)
    {
        var n = order.Length;
        adjacency.Clear();
        var k = 0;
        for (var a = 0; a < n; a++)
        {
            for (var b = a + 1; b < n; b++)
            {
                adjacency[order[a] * n + order[b]] = pairChoices[k++];
            }
        }
    }
}
