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
}

/// <summary>Everything a scorer may use: the episode (with the true world and its solution) and the transcript.</summary>
public sealed record ScoringInput(Episode Episode, EpisodeTranscript Transcript);

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

    public static Scores Score(ScoringInput input, IReadOnlyList<IScorer>? scorers = null)
    {
        var scores = new Scores { OptimalValue = input.Episode.Solution.OptimalValue };
        foreach (var scorer in scorers ?? Default)
        {
            scores = scorer.Score(input, scores);
        }
        return scores;
    }
}
