using CausalEval.Core.Running;

namespace CausalEval.Reporting.Input;

/// <summary>
/// Everything the report needs of one entry's trials on one episode (all epochs and runs), kept as sums so that memory
/// grows with entries × episodes, not with trials. Optimal-action outcomes are kept per trial (8 bytes each) because
/// McNemar's test pairs trials, not episodes.
/// </summary>
internal sealed class EpisodeCell
{
    private List<ulong>? _outcomes;

    public int Trials { get; private set; }

    /// <summary>Trials that ended with scores (the rest ended in an error and are counted apart).</summary>
    public int Scored { get; private set; }

    public int Errors { get; private set; }

    /// <summary>Sum of normalized scores; a scored trial without a valid exploit action counts 0.</summary>
    public double NormalizedSum { get; private set; }

    public int OptimalSum { get; private set; }

    /// <summary>Sum of regrets; without a valid exploit action the regret is the optimal value.</summary>
    public double RegretSum { get; private set; }

    public double CoverageSum { get; private set; }

    public int CoverageCount { get; private set; }

    public double StructureF1Sum { get; private set; }

    public int StructureF1Count { get; private set; }

    public double ShdSum { get; private set; }

    public int ShdCount { get; private set; }

    public long InvalidActions { get; private set; }

    public long ParseFailures { get; private set; }

    /// <summary>Agent decisions (transcript steps): the denominator of the invalid-action and parse-failure rates.</summary>
    public long Decisions { get; private set; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    public double Cost { get; private set; }

    public double MeanNormalized => NormalizedSum / Scored;

    public double MeanOptimal => (double)OptimalSum / Scored;

    public void Add(TrialSummary trial, int run)
    {
        Trials++;
        InputTokens += trial.Usage.InputTokens;
        OutputTokens += trial.Usage.OutputTokens;
        Cost += trial.Cost;
        if (trial.Scores is not { } s)
        {
            Errors++;
            return;
        }
        Scored++;
        NormalizedSum += s.Normalized ?? 0;
        OptimalSum += s.OptimalAction;
        RegretSum += s.Regret ?? s.OptimalValue;
        if (s.ExploreCoverage is { } coverage)
        {
            CoverageSum += coverage;
            CoverageCount++;
        }
        if (s.StructureF1 is { } f1)
        {
            StructureF1Sum += f1;
            StructureF1Count++;
        }
        if (s.Shd is { } shd)
        {
            ShdSum += shd;
            ShdCount++;
        }
        InvalidActions += s.InvalidActions;
        ParseFailures += s.ParseFailures;
        Decisions += trial.Decisions;
        (_outcomes ??= new List<ulong>(1)).Add(PackOutcome(trial.Epoch, run, s.OptimalAction));
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
