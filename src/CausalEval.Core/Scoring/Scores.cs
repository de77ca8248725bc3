using CausalEval.Core.Episodes;

namespace CausalEval.Core.Scoring;

/// <summary>
/// The per-episode scores of DESIGN §1.3. A score that does not apply to the episode (no cued subset,
/// no structure question, no valid exploit action) is null rather than a silent 0.
/// </summary>
public readonly record struct Scores
{
    /// <summary><c>v·TE[X→T]</c> of the chosen exploit action under the true world; null without a valid exploit action.</summary>
    public double? ExploitValue { get; init; }

    /// <summary>The best expected target value among allowed exploit actions.</summary>
    public double OptimalValue { get; init; }

    /// <summary><c>ExploitValue / OptimalValue</c> ∈ [−1, 1]; random play averages 0.</summary>
    public double? Normalized { get; init; }

    /// <summary>1 when the chosen action is among the maximisers (ties count), else 0 (also when invalid).</summary>
    public int OptimalAction { get; init; }

    /// <summary><c>OptimalValue − ExploitValue</c>.</summary>
    public double? Regret { get; init; }

    /// <summary>Distinct cued variables intervened on ÷ cued variables; null for passive episodes.</summary>
    public double? ExploreCoverage { get; init; }

    /// <summary>Share of explore actions inside the cued subset; null without a subset.</summary>
    public double? SubsetAdherence { get; init; }

    public double? StructureF1 { get; init; }

    /// <summary>Structural Hamming distance to the true observable graph (a reversed edge counts once).</summary>
    public int? Shd { get; init; }

    public int InvalidActions { get; init; }

    public int ParseFailures { get; init; }

    /// <summary>
    /// True value of the ideal observer's exploit given exactly the evidence this agent saw (mean over tied Bayes
    /// exploits; DESIGN §1.6); null where exact inference does not reach (more than 5 variables).
    /// </summary>
    public double? EvidenceValue { get; init; }

    /// <summary><c>OptimalValue − EvidenceValue</c>: what the agent's evidence cost it (0 when it settled the question).</summary>
    public double? ExplorationRegret { get; init; }

    /// <summary><c>EvidenceValue − ExploitValue</c>: what its reasoning from that evidence cost it (can be negative).</summary>
    public double? InferenceRegret { get; init; }

    /// <summary>Bits of information of the experiments chosen, summed over the explore steps (invalid steps count 0).</summary>
    public double? ExploreInformation { get; init; }

    /// <summary>Bits of the most informative allowed experiment at each explore step, summed.</summary>
    public double? BestInformation { get; init; }

    /// <summary><c>ExploreInformation / BestInformation</c>; null without explore steps or when nothing was left to learn.</summary>
    public double? ExploreEfficiency { get; init; }

    /// <summary>
    /// Odd-one-out: share of experiment trials whose outcome was not yet certain (a dimension not yet excluded was tested
    /// while the concept was unknown); null for other families.
    /// </summary>
    public double? InformativeExperiments { get; init; }
}

/// <summary>Everything a scorer may use: the episode (with the true world and its solution) and the transcript.</summary>
/// <param name="Task">The task the episode comes from: the family the ideal observer reasons over (null: the episode's shape).</param>
public sealed record ScoringInput(Episode Episode, EpisodeTranscript Transcript, Tasks.TaskDefinition? Task = null);

/// <summary>Computes some of the scores and returns the sheet with them filled in.</summary>
public interface IScorer
{
    Scores Score(ScoringInput input, Scores scores);
}

/// <summary>The standard scorers, in order.</summary>
public static class EpisodeScoring
{
    public static readonly IReadOnlyList<IScorer> Default =
    [
        new ExploitScorer(),
        new ExploreCoverageScorer(),
        new SubsetAdherenceScorer(),
        new StructureScorer(),
        new ValidityScorer(),
    ];

    /// <summary>The standard scorers and the ideal observer's (what a run's trials are scored by).</summary>
    public static readonly IReadOnlyList<IScorer> WithObserver = [.. Default, new Inference.ObserverScorer()];

    public static Scores Score(ScoringInput input, IReadOnlyList<IScorer>? scorers = null)
    {
        var scores = new Scores { OptimalValue = input.Episode.Solution.OptimalValue };
        scorers ??= Default;
        for (var i = 0; i < scorers.Count; i++)
        {
            scores = scorers[i].Score(input, scores);
        }
        return scores;
    }
}
