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
                && cued.IndexOf(action.Variable) is >= 0 and var i && !touched[i])
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
                if (subset.Contains(action.Variable))
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
        var world = input.Episode.World;
        var truth = new List<DirectedLink>(world.Edges.Length);
        foreach (var edge in world.Edges)
        {
            if (world.IsObservable(edge.From) && world.IsObservable(edge.To))
            {
                truth.Add(new DirectedLink(edge.From, edge.To));
            }
        }
        var claimed = input.Transcript.Structure is { Status: StepStatus.Valid, Decision.Edges: { } edges }
            ? edges.Distinct().ToList()
            : [];
        return scores with { StructureF1 = F1(truth, claimed), Shd = StructuralHammingDistance(world.Observable, truth, claimed) };
    }

    /// <summary>Harmonic mean of precision and recall over directed edges; 1 when both graphs are empty.</summary>
    /// <remarks>Both lists hold distinct edges; graphs here are small, so a linear scan beats hashing.</remarks>
    public static double F1(IReadOnlyList<DirectedLink> truth, IReadOnlyList<DirectedLink> claimed)
    {
        if (truth.Count == 0 && claimed.Count == 0)
        {
            return 1;
        }
        var hits = 0;
        foreach (var edge in claimed)
        {
            if (Contains(truth, edge))
            {
                hits++;
            }
        }
        return hits == 0 ? 0 : 2.0 * hits / (truth.Count + claimed.Count);
    }

    /// <summary>Pairs of variables whose relation (none, one way, the other way, both) differs between the graphs.</summary>
    public static int StructuralHammingDistance(IReadOnlyList<string> variables, IReadOnlyList<DirectedLink> truth, IReadOnlyList<DirectedLink> claimed)
    {
        var distance = 0;
        for (var i = 0; i < variables.Count; i++)
        {
            for (var j = i + 1; j < variables.Count; j++)
            {
                var forward = new DirectedLink(variables[i], variables[j]);
                var backward = new DirectedLink(variables[j], variables[i]);
                if (Contains(truth, forward) != Contains(claimed, forward) || Contains(truth, backward) != Contains(claimed, backward))
                {
                    distance++;
                }
            }
        }
        return distance;
    }

    private static bool Contains(IReadOnlyList<DirectedLink> edges, DirectedLink edge)
    {
        for (var i = 0; i < edges.Count; i++)
        {
            if (edges[i] == edge)
            {
                return true;
            }
        }
        return false;
    }
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
