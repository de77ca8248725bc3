using CausalEval.Core.Scoring;

namespace CausalEval.Core.Results;

/// <summary>
/// Sums of one group of trials' scores — the one place that says how trials are counted, shared by the run's
/// leaderboard, the report and the baseline's evaluation. A trial that ended in an error is counted apart and not
/// scored; a scored trial without a valid exploit action counts as value 0 (normalized 0, regret = optimal value); a
/// score that does not apply to an episode (null) is left out of its mean, not counted as 0. Adding a score means
/// adding its sum here (and its field to <see cref="TrialFields"/>).
/// </summary>
public sealed class ScoreTally
{
    public long Trials { get; private set; }

    /// <summary>Trials that ended with scores.</summary>
    public long Scored { get; private set; }

    /// <summary>Trials that ended in an error (no scores).</summary>
    public long Errors { get; private set; }

    public double NormalizedSum { get; private set; }

    public long OptimalSum { get; private set; }

    public double RegretSum { get; private set; }

    public Mean Coverage { get; private set; }

    public Mean SubsetAdherence { get; private set; }

    public Mean StructureF1 { get; private set; }

    public Mean Shd { get; private set; }

    public long InvalidActions { get; private set; }

    /// <summary>The ideal observer's regret decomposition (DESIGN §1.6), over the trials it applies to.</summary>
    public Mean EvidenceValue { get; private set; }

    public Mean ExplorationRegret { get; private set; }

    /// <summary>Like <see cref="Regret"/>, a trial without a valid exploit action counts as value 0 (its evidence value).</summary>
    public Mean InferenceRegret { get; private set; }

    public Mean ExploreEfficiency { get; private set; }

    /// <summary>Odd-one-out: share of experiment trials that were informative.</summary>
    public Mean InformativeExperiments { get; private set; }

    public long ParseFailures { get; private set; }

    /// <summary>Agent decisions (transcript steps): the denominator of the invalid-answer rate.</summary>
    public long Decisions { get; private set; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    public double Cost { get; private set; }

    public void Add(TrialSummary trial)
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
        Coverage = Coverage.With(s.ExploreCoverage);
        SubsetAdherence = SubsetAdherence.With(s.SubsetAdherence);
        StructureF1 = StructureF1.With(s.StructureF1);
        Shd = Shd.With(s.Shd);
        InvalidActions += s.InvalidActions;
        ParseFailures += s.ParseFailures;
        Decisions += trial.Decisions;
        EvidenceValue = EvidenceValue.With(s.EvidenceValue);
        ExplorationRegret = ExplorationRegret.With(s.ExplorationRegret);
        InferenceRegret = InferenceRegret.With(s.InferenceRegret ?? s.EvidenceValue);
        ExploreEfficiency = ExploreEfficiency.With(s.ExploreEfficiency);
        InformativeExperiments = InformativeExperiments.With(s.InformativeExperiments);
    }

    /// <summary>Adds another group's sums (e.g. per-episode tallies into a task's).</summary>
    public void Add(ScoreTally other)
    {
        Trials += other.Trials;
        Scored += other.Scored;
        Errors += other.Errors;
        NormalizedSum += other.NormalizedSum;
        OptimalSum += other.OptimalSum;
        RegretSum += other.RegretSum;
        Coverage = Coverage.With(other.Coverage);
        SubsetAdherence = SubsetAdherence.With(other.SubsetAdherence);
        StructureF1 = StructureF1.With(other.StructureF1);
        Shd = Shd.With(other.Shd);
        InvalidActions += other.InvalidActions;
        ParseFailures += other.ParseFailures;
        Decisions += other.Decisions;
        EvidenceValue = EvidenceValue.With(other.EvidenceValue);
        ExplorationRegret = ExplorationRegret.With(other.ExplorationRegret);
        InferenceRegret = InferenceRegret.With(other.InferenceRegret);
        ExploreEfficiency = ExploreEfficiency.With(other.ExploreEfficiency);
        InformativeExperiments = InformativeExperiments.With(other.InformativeExperiments);
        InputTokens += other.InputTokens;
        OutputTokens += other.OutputTokens;
        Cost += other.Cost;
    }

    /// <summary>Mean normalized score of the scored trials; null when none was scored.</summary>
    public double? Normalized => Scored > 0 ? NormalizedSum / Scored : null;

    /// <summary>Share of scored trials whose exploit action is a maximiser; null when none was scored.</summary>
    public double? OptimalActionRate => Scored > 0 ? (double)OptimalSum / Scored : null;

    /// <summary>Mean regret of the scored trials; null when none was scored.</summary>
    public double? Regret => Scored > 0 ? RegretSum / Scored : null;

    /// <summary>Share of decisions that were invalid or unreadable; null without decisions.</summary>
    public double? InvalidRate => Decisions > 0 ? (double)(InvalidActions + ParseFailures) / Decisions : null;

    /// <summary>The sum and count of a score that applies to some episodes only.</summary>
    public readonly record struct Mean(double Sum, long Count)
    {
        public double? Value => Count > 0 ? Sum / Count : null;

        public Mean With(double? value) => value is { } v ? new Mean(Sum + v, Count + 1) : this;

        public Mean With(Mean other) => new(Sum + other.Sum, Count + other.Count);
    }
}
