using System.Globalization;
using System.Text;

namespace CausalEval.Core.Results;

/// <summary>
/// Streaming per-run aggregates (constant memory in the number of trials) and the plain <c>leaderboard.md</c>.
/// A trial without a valid exploit action counts as value 0 (normalized 0, regret = optimal value); its
/// invalid or unreadable answers are shown in their own column. The counting is <see cref="ScoreTally"/>'s.
/// </summary>
public sealed class Leaderboard
{
    private readonly Dictionary<(string Model, string? Variant, string Task), ScoreTally> _byTask = [];
    private readonly Dictionary<(string Model, string? Variant), ScoreTally> _overall = [];
    private readonly object _gate = new();

    public void Add(TrialRecord record) => Add(TrialSummary.From(record));

    public void Add(TrialSummary trial)
    {
        lock (_gate)
        {
            TallyFor(_byTask, (trial.Model, trial.PromptVariant, trial.Task)).Add(trial);
            TallyFor(_overall, (trial.Model, trial.PromptVariant)).Add(trial);
        }
    }

    public IReadOnlyList<LeaderboardRow> Overall()
    {
        lock (_gate)
        {
            return [.. _overall
                .Select(p => LeaderboardRow.From(p.Key.Model, p.Key.Variant, null, p.Value))
                .OrderByDescending(r => r.Normalized)
                .ThenBy(r => r.Model, StringComparer.Ordinal)
                .ThenBy(r => r.PromptVariant, StringComparer.Ordinal)];
        }
    }

    public IReadOnlyList<LeaderboardRow> ByTask()
    {
        lock (_gate)
        {
            return [.. _byTask
                .Select(p => LeaderboardRow.From(p.Key.Model, p.Key.Variant, p.Key.Task, p.Value))
                .OrderBy(r => r.Task, StringComparer.Ordinal)
                .ThenByDescending(r => r.Normalized)
                .ThenBy(r => r.Model, StringComparer.Ordinal)];
        }
    }

    public string ToMarkdown(string runId)
    {
        var text = new StringBuilder();
        text.Append("# Leaderboard — run ").Append(runId).Append("\n\n");
        text.Append("normalized = mean of exploit value ÷ optimal value (1 = optimal, 0 = random play); ")
            .Append("optimal = share of trials whose exploit action is a maximiser (ties count); ")
            .Append("regret = mean optimal value − exploit value; coverage = mean share of cued variables explored; ")
            .Append("invalid = share of answers that were invalid or unreadable. ")
            .Append("A trial without a valid exploit action counts as 0; errors are trials that ended in an error.");
        var overall = Overall();
        if (overall.Any(r => r.ExplorationRegret is not null))
        {
            text.Append(" The ideal observer's decomposition (tasks it covers): explore regret = mean optimal value − the true ")
                .Append("value of the Bayes exploit given the evidence the agent saw; inference regret = that value − exploit value ")
                .Append("(they sum to regret); explore eff. = bits of the experiments chosen ÷ bits of the best available.");
        }
        text.Append("\n\n## Overall\n\n");
        AppendTable(text, overall, withTask: false);
        text.Append("\n## By task\n\n");
        AppendTable(text, ByTask(), withTask: true);
        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, IReadOnlyList<LeaderboardRow> rows, bool withTask)
    {
        var observer = rows.Any(r => r.ExplorationRegret is not null);
        text.Append(withTask ? "| task | model | prompt | trials | normalized | optimal | regret | coverage | invalid | errors |"
                             : "| rank | model | prompt | trials | normalized | optimal | regret | coverage | invalid | errors |");
        text.Append(observer ? " explore regret | inference regret | explore eff. |\n" : "\n");
        text.Append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|").Append(observer ? "---:|---:|---:|\n" : "\n");
        var rank = 0;
        foreach (var row in rows)
        {
            text.Append("| ").Append(withTask ? row.Task : (++rank).ToString(CultureInfo.InvariantCulture))
                .Append(" | ").Append(row.Model)
                .Append(" | ").Append(row.PromptVariant ?? "—")
                .Append(" | ").Append(row.Trials.ToString(CultureInfo.InvariantCulture))
                .Append(" | ").Append(Format(row.Normalized))
                .Append(" | ").Append(Format(row.OptimalActionRate))
                .Append(" | ").Append(Format(row.Regret))
                .Append(" | ").Append(Format(row.Coverage))
                .Append(" | ").Append(Percent(row.InvalidRate))
                .Append(" | ").Append(row.Errors.ToString(CultureInfo.InvariantCulture));
            if (observer)
            {
                text.Append(" | ").Append(Format(row.ExplorationRegret))
                    .Append(" | ").Append(Format(row.InferenceRegret))
                    .Append(" | ").Append(Format(row.ExploreEfficiency));
            }
            text.Append(" |\n");
        }
    }

    private static string Format(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "—";

    private static string Percent(double? value) => value is { } v ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "—";

    private static ScoreTally TallyFor<TKey>(Dictionary<TKey, ScoreTally> tallies, TKey key) where TKey : notnull
    {
        if (!tallies.TryGetValue(key, out var tally))
        {
            tallies[key] = tally = new ScoreTally();
        }
        return tally;
    }
}

public sealed record LeaderboardRow(
    string Model,
    string? PromptVariant,
    string? Task,
    long Trials,
    long Errors,
    double? Normalized,
    double? OptimalActionRate,
    double? Regret,
    double? Coverage,
    double? InvalidRate)
{
    /// <summary>Mean share of explore actions inside the cued subset, over trials that had one.</summary>
    public double? SubsetAdherence { get; init; }

    /// <summary>Mean structure F1, over trials that were asked for the structure.</summary>
    public double? StructureF1 { get; init; }

    /// <summary>The ideal observer's decomposition of <see cref="Regret"/>, over the trials it covers (null: none).</summary>
    public double? ExplorationRegret { get; init; }

    public double? InferenceRegret { get; init; }

    /// <summary>Mean bits chosen ÷ bits available over the explore steps, over trials with explore steps.</summary>
    public double? ExploreEfficiency { get; init; }

    public static LeaderboardRow From(string model, string? variant, string? task, ScoreTally tally) => new(
        model, variant, task, tally.Trials, tally.Errors, tally.Normalized, tally.OptimalActionRate, tally.Regret, tally.Coverage.Value, tally.InvalidRate)
    {
        SubsetAdherence = tally.SubsetAdherence.Value,
        StructureF1 = tally.StructureF1.Value,
        ExplorationRegret = tally.ExplorationRegret.Value,
        InferenceRegret = tally.InferenceRegret.Value,
        ExploreEfficiency = tally.ExploreEfficiency.Value,
    };
}
