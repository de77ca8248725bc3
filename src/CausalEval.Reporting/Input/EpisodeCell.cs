using CausalEval.Core.Running;
using CausalEval.Core.Results;

namespace CausalEval.Reporting.Input;

/// <summary>
/// Everything the report needs of one entry's trials on one episode (all epochs and runs), kept as sums so that memory
/// grows with entries × episodes, not with trials. Optimal-action outcomes are kept per trial (8 bytes each) because
/// McNemar's test pairs trials, not episodes.
/// </summary>
internal sealed class EpisodeCell
{
    private List<ulong>? _outcomes;

    /// <summary>The cell's sums, counted as everywhere else (<see cref="ScoreTally"/>).</summary>
    public ScoreTally Sums { get; } = new();

    public int Trials => (int)Sums.Trials;

    /// <summary>Trials that ended with scores (the rest ended in an error and are counted apart).</summary>
    public int Scored => (int)Sums.Scored;

    public int Errors => (int)Sums.Errors;

    /// <summary>Sum of normalized scores; a scored trial without a valid exploit action counts 0.</summary>
    public double NormalizedSum => Sums.NormalizedSum;

    public int OptimalSum => (int)Sums.OptimalSum;

    public long ParseFailures => Sums.ParseFailures;

    /// <summary>Agent decisions (transcript steps): the denominator of the invalid-action and parse-failure rates.</summary>
    public long Decisions => Sums.Decisions;

    public double MeanNormalized => NormalizedSum / Scored;

    public double MeanOptimal => (double)OptimalSum / Scored;

    public void Add(TrialSummary trial, int run)
    {
        Sums.Add(trial);
        if (trial.Scores is { } s)
        {
            (_outcomes ??= new List<ulong>(1)).Add(PackOutcome(trial.Epoch, run, s.OptimalAction));
        }
    }

    /// <summary>
    /// Optimal-action outcomes of the scored trials, ordered by (epoch, run): the k-th outcome of two entries on the
    /// same episode met the same environment noise when they share epoch and run seed, so they pair.
    /// </summary>
    /// <remarks>Valid after <see cref="Seal"/>.</remarks>
    public ReadOnlySpan<ulong> SortedOutcomes() => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_outcomes);

    /// <summary>Ends adding: sorts the outcomes once, so readers on several threads only read.</summary>
    public void Seal() => _outcomes?.Sort();

    public static bool Optimal(ulong outcome) => (outcome & 1) == 1;

    private static ulong PackOutcome(int epoch, int run, int optimal)
        => ((ulong)(uint)epoch << 32) | ((ulong)(uint)run << 1) | (uint)optimal;
}
