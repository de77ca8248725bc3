using System.Text;
using static CausalEval.Core.Running.RunStatusNames;
using CausalEval.Reporting.Analysis;

namespace CausalEval.Reporting.Output;

/// <summary><c>leaderboard.md</c> and <c>leaderboard.csv</c>.</summary>
internal static class LeaderboardFiles
{
    public const string TieMark = "≈";

    public static readonly string Method =
        "normalized = mean of exploit value ÷ optimal value (1 = optimal, 0 = random play), with a 95% percentile-bootstrap interval "
        + $"(2,000 resamples of episodes, fixed seed; when an episode was played more than once — epochs or runs — its trials are resampled together). "
        + "optimal = share of trials whose exploit action is a maximiser (ties count), with a 95% Wilson interval when every episode was played once, "
        + "else the same cluster bootstrap over episodes (the episode is the unit, so repeated epochs do not narrow it). "
        + "regret = mean optimal value − exploit value; coverage = mean share of cued variables explored; structure F1 = directed-edge F1. "
        + "parse fail / invalid = share of the agent's answers that could not be read / were not allowed. "
        + "explore regret = optimal value − evidence value, where the evidence value is the true value of the ideal observer's exploit given "
        + "exactly the evidence the entry saw; infer regret = evidence value − exploit value (the two sum to regret; an entry loses by "
        + "exploring when the first is large, by reasoning when the second is), both with 95% bootstrap intervals over episodes; explore eff. = "
        + "bits of information of the experiments chosen ÷ bits of the best experiment available at each step. "
        + "A trial without a valid exploit action counts as normalized 0 (regret = optimal value); trials that ended in an error have no scores and are "
        + "counted in trials but not in the means. Latency is per trial, p50 / p95.";

    /// <summary>What the same columns mean on odd-one-out tasks (added to <see cref="Method"/> when the report has some).</summary>
    public const string OddOneOutMethod =
        "Odd-one-out tasks: exploit value = 1 when the exploit pick is unique along the hidden concept, else 0 (a failed pick too), and the optimal "
        + "value is 1, so optimal = exploit correct and regret = 1 − correct; normalized = (correct − 1/4) ÷ (3/4) (1 = always right, 0 = random play, "
        + "one object in four); coverage = share of the three dimensions (colour, texture, shape) transformed; the ideal observer is the exact posterior "
        + "over the concept given the experiments' outcomes, so evidence value = chance that its pick is right and explore eff. = bits of the outcomes "
        + "÷ bits of the most informative experiments; there is no structure question.";

    /// <summary>The legend for this report: <see cref="Method"/>, and what the scores mean on odd-one-out tasks when it has some.</summary>
    public static string MethodFor(ReportModel model) => model.HasOddOneOut ? Method + " " + OddOneOutMethod : Method;

    public static readonly string TieRuleText =
        $"Ranked by normalized score. {TieMark} after a rank: statistically tied with the entry just above — on the episodes both played (at least "
        + $"{LeaderboardAnalysis.MinCommonEpisodesForPairing}), the 95% paired-bootstrap interval of the mean per-episode difference contains 0; "
        + $"entries without common episodes are tied when their own 95% intervals overlap ({TieMark}* marks that weaker rule).";

    public static string Markdown(ReportModel model, string title)
    {
        var text = new StringBuilder();
        text.Append("# ").Append(title).Append("\n\n");
        text.Append(RunsLine(model)).Append("\n\n");
        text.Append(TieRuleText).Append("\n\n").Append(MethodFor(model)).Append("\n\n");
        text.Append("## Overall\n\n");
        Table(text, model, model.Overall);
        text.Append("\n## By task\n");
        foreach (var (task, rows) in model.ByTask)
        {
            text.Append("\n### ").Append(task).Append("\n\n");
            if (model.IsOddOneOut(task))
            {
                text.Append("Odd-one-out: optimal = exploit correct (the pick is unique along the concept); normalized = (correct − 1/4) ÷ (3/4).\n\n");
            }
            Table(text, model, rows);
        }
        return text.ToString();
    }

    public static string RunsLine(ReportModel model)
    {
        var runs = model.Data.Runs.Runs;
        var parts = runs.Select(r => $"{r.Manifest.RunId} ({r.Manifest.Status.Name()}, seed {r.Manifest.Seed}, {r.Manifest.Epochs} epoch{(r.Manifest.Epochs == 1 ? "" : "s")})");
        return $"{(runs.Count == 1 ? "Run" : $"{runs.Count} runs merged")}: {string.Join("; ", parts)}. "
            + $"{Format.Count(model.Data.Trials)} trials, {model.Overall.Count} entries, {model.ByTask.Count} tasks.";
    }

    public static string Rank(LeaderboardRow row) => row.TiedWithAbove switch
    {
        TieRule.Paired => $"{row.Rank} {TieMark}",
        TieRule.Overlap => $"{row.Rank} {TieMark}*",
        _ => row.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static (List<string> Header, List<bool> Right, Func<LeaderboardRow, List<string>> Cells) Columns(ReportModel model)
    {
        var header = new List<string> { "rank", "model" };
        var right = new List<bool> { false, false };
        if (model.HasVariants)
        {
            header.Add("prompt");
            right.Add(false);
        }
        if (model.HasNamings)
        {
            header.Add("naming");
            right.Add(false);
        }
        string[] numeric = ["normalized [95% CI]", "optimal [95% CI]", "regret", "coverage"];
        header.AddRange(numeric);
        right.AddRange(numeric.Select(_ => true));
        if (model.HasObserver)
        {
            string[] observer = ["explore regret [95% CI]", "infer regret [95% CI]", "explore eff."];
            header.AddRange(observer);
            right.AddRange(observer.Select(_ => true));
        }
        if (model.HasStructure)
        {
            header.Add("structure F1");
            right.Add(true);
        }
        string[] rest = ["parse fail", "invalid", "trials", "errors", "tokens in / out", "cost", "latency p50 / p95"];
        header.AddRange(rest);
        right.AddRange(rest.Select(_ => true));
        List<string> Cells(LeaderboardRow row)
        {
            var cells = new List<string> { Rank(row), row.Entry.Model };
            if (model.HasVariants)
            {
                cells.Add(row.Entry.Variant ?? Format.Missing);
            }
            if (model.HasNamings)
            {
                cells.Add(row.Entry.Naming ?? Format.Missing);
            }
            cells.AddRange([Format.Interval(row.Normalized), Format.Interval(row.OptimalRate), Format.Score(row.Regret), Format.Score(row.Coverage)]);
            if (model.HasObserver)
            {
                cells.AddRange([Format.Interval(row.ExplorationRegret), Format.SignedInterval(row.InferenceRegret), Format.Score(row.ExploreEfficiency)]);
            }
            if (model.HasStructure)
            {
                cells.Add(Format.Score(row.StructureF1));
            }
            cells.AddRange([
                Format.Percent(row.ParseFailureRate), Format.Percent(row.InvalidActionRate), Format.Count(row.Trials), Format.Count(row.Errors),
                Format.Tokens(row.InputTokens, row.OutputTokens), Format.Cost(row.Cost), Format.Latency(row.LatencyP50Ms, row.LatencyP95Ms),
            ]);
            return cells;
        }
        return (header, right, Cells);
    }

    private static void Table(StringBuilder text, ReportModel model, IReadOnlyList<LeaderboardRow> rows)
    {
        var (header, right, cells) = Columns(model);
        Format.MarkdownTable(text, header, right, rows.Select(cells));
    }

    public static readonly string[] CsvHeader =
    [
        "scope", "rank", "tied_with_above", "model", "prompt_variant", "naming", "trials", "errors", "scored", "episodes",
        "normalized", "normalized_ci_lower", "normalized_ci_upper", "optimal_rate", "optimal_ci_lower", "optimal_ci_upper",
        "regret", "explore_coverage", "structure_f1", "shd", "parse_failure_rate", "invalid_action_rate",
        "evidence_value", "exploration_regret", "exploration_regret_ci_lower", "exploration_regret_ci_upper",
        "inference_regret", "inference_regret_ci_lower", "inference_regret_ci_upper", "explore_efficiency",
        "input_tokens", "output_tokens", "cost_usd", "latency_p50_ms", "latency_p95_ms", // latency last: it is wall time
    ];

    /// <summary>One row per entry overall (scope <c>overall</c>) and per task (scope = task id). tied_with_above: paired, overlap or empty.</summary>
    public static string Csv(ReportModel model)
    {
        var rows = model.Overall.Select(r => CsvRow("overall", r))
            .Concat(model.ByTask.SelectMany(t => t.Rows.Select(r => CsvRow(t.Task, r))));
        return Format.ToCsv(CsvHeader, rows);
    }

    private static List<string> CsvRow(string scope, LeaderboardRow r) =>
    [
        scope, r.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
        r.TiedWithAbove switch { TieRule.Paired => "paired", TieRule.Overlap => "overlap", _ => "" },
        r.Entry.Model, r.Entry.Variant ?? "", r.Entry.Naming ?? "",
        Long(r.Trials), Long(r.Errors), Long(r.Scored), Long(r.Episodes),
        Format.Csv(r.Normalized.Estimate), Format.Csv(r.Normalized.Lower), Format.Csv(r.Normalized.Upper),
        Format.Csv(r.OptimalRate.Estimate), Format.Csv(r.OptimalRate.Lower), Format.Csv(r.OptimalRate.Upper),
        Format.Csv(r.Regret), Format.Csv(r.Coverage), Format.Csv(r.StructureF1), Format.Csv(r.Shd),
        Format.Csv(r.ParseFailureRate), Format.Csv(r.InvalidActionRate),
        Format.Csv(r.EvidenceValue), Format.Csv(r.ExplorationRegret.Estimate), Format.Csv(r.ExplorationRegret.Lower), Format.Csv(r.ExplorationRegret.Upper),
        Format.Csv(r.InferenceRegret.Estimate), Format.Csv(r.InferenceRegret.Lower), Format.Csv(r.InferenceRegret.Upper), Format.Csv(r.ExploreEfficiency),
        Long(r.InputTokens), Long(r.OutputTokens), Format.Csv(r.Cost), Format.Csv(r.LatencyP50Ms), Format.Csv(r.LatencyP95Ms),
    ];

    private static string Long(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
