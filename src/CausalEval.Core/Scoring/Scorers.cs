using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Scoring;

/// <summary>Exploit value, normalized score, optimal action (ties count) and regret.</summary>
public sealed class ExploitScorer : IScorer
{
    public Scores Score(ScoringInput input, Scores scores)
    {
        var solution = input.Episode.Solution;
        if (input.Transcript.Exploit is not { Status: StepStatus.Valid, Action: { } action })
        {
            return scores with { ExploitValue = null, Normalized = null, Regret = null, OptimalAction = 0 };
        }
        var value = input.Episode.World.ExpectedUnder(action, input.Episode.Target) + 0.0;
        var optimal = solution.OptimalValue;
        return scores with
        {
            ExploitValue = value,
            // Only a positive optimum gives a scale where 1 is best; datasets reject goals without one.
            Normalized = optimal > 0 ? value / optimal : null,
            Regret = optimal - value,
            OptimalAction = solution.IsOptimal(action) ? 1 : 0,
        };
    }
}

/// <summary>Distinct cued variables the agent intervened on ÷ cued variables (passive episodes: not applicable).</summary>
public sealed class ExploreCoverageScorer : IScorer
{
    public Scores Score(ScoringInput input, Scores scores)
    {
        var cued = input.Episode.ExploreVariables;
        if (input.Episode.ExploreSteps == 0 || cued.Length == 0)
        {
            return scores with { ExploreCoverage = null };
        }
        Span<bool> touched = cued.Length <= 256 ? stackalloc bool[cued.Length] : new bool[cued.Length];
        var distinct = 0;
        foreach (var step in input.Transcript.Steps)
        {
            if (step is { Phase: Phase.Explore, Status: StepStatus.Valid, Action: { } action }
                && VariableNames.IndexOf(cued.AsSpan(), action.Variable) is >= 0 and var i && !touched[i])
            {
                touched[i] = true;
                distinct++;
            }
        }
        return scores with { ExploreCoverage = (double)distinct / cued.Length };
    }
}

/// <summary>Share of explore actions (any that named a variable) inside the cued subset.</summary>
public sealed class SubsetAdherenceScorer : IScorer
{
    public Scores Score(ScoringInput input, Scores scores)
    {
        var subset = input.Episode.Options.Subset;
        if (subset.IsDefault)
        {
            return scores with { SubsetAdherence = null };
        }
        int inside = 0, total = 0;
        foreach (var step in input.Transcript.Steps)
        {
            if (step is { Phase: Phase.Explore, Action: { } action })
            {
                total++;
                if (VariableNames.IndexOf(subset.AsSpan(), action.Variable) >= 0)
                {
                    inside++;
                }
            }
        }
        return scores with { SubsetAdherence = total > 0 ? (double)inside / total : null };
    }
}

/// <summary>Edge F1 and structural Hamming distance against the true graph over observable variables.</summary>
public sealed class StructureScorer : IScorer
{
    public Scores Score(ScoringInput input, Scores scores)
    {
        if (!input.Episode.Options.AskStructure)
        {
            return scores with { StructureF1 = null, Shd = null };
        }
        var episode = input.Episode;
        var claimed = input.Transcript.Structure is { Status: StepStatus.Valid, Decision.Edges: { } edges } ? edges : [];
        return Compare(episode.World.Observable.AsSpan(), episode.ObservableAdjacency.AsSpan(), claimed.AsSpan(), out var f1, out var shd)
            ? scores with { StructureF1 = f1, Shd = shd }
            : scores with { StructureF1 = 0, Shd = null };
    }

    /// <summary>Harmonic mean of precision and recall over distinct directed edges; 1 when both graphs are empty.</summary>
    public static double F1(IReadOnlyList<string> variables, IReadOnlyList<DirectedLink> truth, IReadOnlyList<DirectedLink> claimed)
        => Compare([.. variables], [.. truth], [.. claimed], out var f1, out _) ? f1 : 0;

    /// <summary>Pairs of variables whose relation (none, one way, the other way, both) differs between the graphs.</summary>
    public static int StructuralHammingDistance(IReadOnlyList<string> variables, IReadOnlyList<DirectedLink> truth, IReadOnlyList<DirectedLink> claimed)
        => Compare([.. variables], [.. truth], [.. claimed], out _, out var shd) ? shd : throw new ArgumentException("an edge names an unknown variable", nameof(claimed));

    /// <summary>Both scores over <paramref name="variables"/>; false when an edge names another variable.</summary>
    private static bool Compare(ReadOnlySpan<string> variables, ReadOnlySpan<DirectedLink> truth, ReadOnlySpan<DirectedLink> claimed,
        out double f1, out int shd)
    {
        var words = AdjacencyBits.Words(variables.Length);
        Span<ulong> isTrue = words <= 8 ? stackalloc ulong[words] : new ulong[words];
        if (!AdjacencyBits.TryFill(variables, truth, isTrue))
        {
            (f1, shd) = (0, 0);
            return false;
        }
        return Compare(variables, isTrue, claimed, out f1, out shd);
    }

    /// <summary>Both scores against the true graph's <see cref="AdjacencyBits"/> (an episode's are made with it).</summary>
    /// <remarks>Spans, not the public methods' lists: every trial is scored here, and a list interface over an
    /// <see cref="System.Collections.Immutable.ImmutableArray{T}"/> boxes it and calls through the interface per name.</remarks>
    private static bool Compare(ReadOnlySpan<string> variables, ReadOnlySpan<ulong> isTrue, ReadOnlySpan<DirectedLink> claimed,
        out double f1, out int shd)
    {
        var n = variables.Length;
        var words = isTrue.Length;
        Span<ulong> isClaimed = words <= 8 ? stackalloc ulong[words] : new ulong[words];
        f1 = 0;
        shd = 0;
        if (!AdjacencyBits.TryFill(variables, claimed, isClaimed))
        {
            return false;
        }
        int hits = 0, truthCount = 0, claimedCount = 0;
        for (var w = 0; w < words; w++)
        {
            hits += System.Numerics.BitOperations.PopCount(isTrue[w] & isClaimed[w]);
            truthCount += System.Numerics.BitOperations.PopCount(isTrue[w]);
            claimedCount += System.Numerics.BitOperations.PopCount(isClaimed[w]);
        }
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                if (Differs(isTrue, isClaimed, i * n + j) || Differs(isTrue, isClaimed, j * n + i))
                {
                    shd++;
                }
            }
        }
        f1 = truthCount == 0 && claimedCount == 0 ? 1 : 2.0 * hits / (truthCount + claimedCount);
        return true;
    }

    private static bool Differs(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b, int bit) => ((a[bit >> 6] ^ b[bit >> 6]) & (1UL << bit)) != 0;
}

/// <summary>Invalid actions and parse failures, counted apart from wrong answers.</summary>
public sealed class ValidityScorer : IScorer
{
    public Scores Score(ScoringInput input, Scores scores)
    {
        int invalid = 0, unreadable = 0;
        foreach (var step in input.Transcript.Steps)
        {
            if (step.Status == StepStatus.Invalid)
            {
                invalid++;
            }
            else if (step.Status == StepStatus.ParseFailure)
            {
                unreadable++;
            }
        }
        return scores with { InvalidActions = invalid, ParseFailures = unreadable };
    }
}
