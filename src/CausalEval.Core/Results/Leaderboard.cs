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
    // Per (task, episode) sums of the normalized score, for intervals clustered by episode (epochs replay an episode,
    // so its trials are not independent); memory grows with the episodes, not the trials.
    private readonly Dictionary<(string Model, string? Variant, string? Task), Dictionary<(string Task, string Episode), EpisodeSum>> _episodes = [];
    private readonly object _gate = new();

    public void Add(TrialRecord record) => Add(TrialSummary.From(record));

    public void Add(TrialSummary trial)
    {
        lock (_gate)
        {
            TallyFor(_byTask, (trial.Model, trial.PromptVariant, trial.Task)).Add(trial);
            TallyFor(_overall, (trial.Model, trial.PromptVariant)).Add(trial);
            if (trial.Scores is { } scores)
            {
                var value = scores.Normalized ?? 0;
                AddEpisode((trial.Model, trial.PromptVariant, trial.Task), (trial.Task, trial.Episode), value);
                AddEpisode((trial.Model, trial.PromptVariant, null), (trial.Task, trial.Episode), value);
            }
        }
    }

    public IReadOnlyList<LeaderboardRow> Overall()
    {
        lock (_gate)
        {
            return [.. _overall
                .Select(p => LeaderboardRow.From(p.Key.Model, p.Key.Variant, null, p.Value) with { NormalizedInterval = Interval((p.Key.Model, p.Key.Variant, null)) })
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
                .Select(p => LeaderboardRow.From(p.Key.Model, p.Key.Variant, p.Key.Task, p.Value) with { NormalizedInterval = Interval(p.Key) })
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
        if (overall.Any(r => r.InformativeExperiments is not null))
        {
            // Only odd-one-out trials have this score: their exploit value is 1 for the right pick, the optimal value 1.
            text.Append(" Odd-one-out tasks: exploit value = 1 when the pick is unique along the concept, else 0 (a failed pick too); normalized = ")
                .Append("(correct − 1/4) ÷ (3/4) (random play 0); coverage = share of the three dimensions transformed.");
        }
        text.Append("\n\n## Overall\n\n");
        AppendTable(text, overall, withTask: false);
        text.Append("\n## By task\n\n");
        AppendTable(text, ByTask(), withTask: true);
        return text.ToString();
    }

    /// <summary>
    /// The compact end-of-run table: one row per model and prompt variant over all tasks, with the normalized score's
    /// 95% interval; the by-task table stays in <c>leaderboard.md</c> and the report.
    /// </summary>
    public string ToSummary()
    {
        var rows = Overall();
        var header = new[] { "rank", "model", "prompt", "trials", "normalized [95% CI]", "optimal", "invalid", "errors" };
        var cells = rows.Select((r, i) => new[]
        {
            (i + 1).ToString(CultureInfo.InvariantCulture), r.Model, r.PromptVariant ?? "—", r.Trials.ToString("N0", CultureInfo.InvariantCulture),
            Format(r.Normalized) + (r.NormalizedInterval is { } ci ? $" [{Format(ci.Low)}, {Format(ci.High)}]" : ""),
            Percent(r.OptimalActionRate), Percent(r.InvalidRate), r.Errors.ToString("N0", CultureInfo.InvariantCulture),
        }).ToList();
        var widths = header.Select((h, c) => cells.Select(row => row[c].Length).Append(h.Length).Max()).ToArray();
        var left = new[] { true, true, true, false, false, false, false, false };
        var text = new StringBuilder();
        foreach (var row in cells.Prepend(header))
        {
            text.Append(string.Join("  ", row.Select((cell, c) => left[c] ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd()).Append('\n');
        }
        text.Append("95% CI: normal approximation, clustered by episode (epochs of an episode are not independent); ")
            .Append("optimal = share of trials whose exploit action is a maximiser; invalid = share of invalid or unreadable answers.\n");
        return text.ToString();
    }

    /// <summary>
    /// The 95% interval of the mean normalized score, mean ± 1.96 × the cluster-robust standard error over episodes
    /// (sqrt(G/(G−1) · Σ_e (S_e − n_e·m)²) / N, for G episodes with sums S_e of n_e trials, N trials, mean m); with one
    /// trial per episode it is the usual standard error of the mean. Null with fewer than two episodes.
    /// </summary>
    internal static (double Low, double High)? ClusteredInterval(IReadOnlyCollection<(double Sum, long Count)> episodes)
    {
        var groups = episodes.Count;
        var n = episodes.Sum(e => e.Count);
        if (groups < 2 || n == 0)
        {
            return null;
        }
        var mean = episodes.Sum(e => e.Sum) / n;
        var squares = episodes.Sum(e => (e.Sum - e.Count * mean) * (e.Sum - e.Count * mean));
        var se = Math.Sqrt(groups / (groups - 1.0) * squares) / n;
        return (mean - 1.96 * se, mean + 1.96 * se);
    }

    private (double Low, double High)? Interval((string Model, string? Variant, string? Task) key) =>
        _episodes.TryGetValue(key, out var sums) ? ClusteredInterval([.. sums.Values.Select(e => (e.Sum, e.Count))]) : null;

    private void AddEpisode((string Model, string? Variant, string? Task) key, (string Task, string Episode) episode, double value)
    {
        if (!_episodes.TryGetValue(key, out var sums))
        {
            _episodes[key] = sums = [];
        }
        sums[episode] = sums.TryGetValue(episode, out var sum) ? new EpisodeSum(sum.Sum + value, sum.Count + 1) : new EpisodeSum(value, 1);
    }

    private readonly record struct EpisodeSum(double Sum, long Count);

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

    /// <summary>95% interval of <see cref="Normalized"/>, clustered by episode; null with fewer than two episodes scored.</summary>
    public (double Low, double High)? NormalizedInterval { get; init; }

    /// <summary>Odd-one-out: mean share of informative experiment trials (null: no odd-one-out trials).</summary>
    public double? InformativeExperiments { get; init; }

    public static LeaderboardRow From(string model, string? variant, string? task, ScoreTally tally) => new(
        model, variant, task, tally.Trials, tally.Errors, tally.Normalized, tally.OptimalActionRate, tally.Regret, tally.Coverage.Value, tally.InvalidRate)
    {
        SubsetAdherence = tally.SubsetAdherence.Value,
        StructureF1 = tally.StructureF1.Value,
        InformativeExperiments = tally.InformativeExperiments.Value,
        ExplorationRegret = tally.ExplorationRegret.Value,
        InferenceRegret = tally.InferenceRegret.Value,
        ExploreEfficiency = tally.ExploreEfficiency.Value,
    };
}
