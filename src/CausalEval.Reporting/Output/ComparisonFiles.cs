using System.Globalization;
using System.Text;
using CausalEval.Reporting.Analysis;

namespace CausalEval.Reporting.Output;

/// <summary><c>comparisons.csv</c> and the comparisons section of the Markdown and HTML reports.</summary>
internal static class ComparisonFiles
{
    public const double Alpha = 0.05;

    public static readonly string Method =
        "Every pair of models on the episodes both played — under the same prompt variant and naming scheme (an agent without a prompt, "
        + "such as a built-in reference, is compared with every entry; prompt conditions are compared in the ablation). difference = mean over common episodes of (A's mean normalized score − B's), "
        + "with a 95% paired-bootstrap interval (2,000 resamples of episodes, fixed seed). p = two-sided test on optimal_action: when every common episode "
        + "was played once, McNemar's exact test over trial pairs; when some was played more than once (epochs, runs), the sign-flip test on the "
        + "per-episode differences of optimal-action rates (exact up to 16 non-zero differences, else its normal approximation), so the episode is the "
        + "unit (column test); p_adjusted = Holm–Bonferroni over all pairs. A is the entry ranked higher overall.";

    public static readonly string[] CsvHeader =
    [
        "model_a", "prompt_variant_a", "naming_a", "model_b", "prompt_variant_b", "naming_b", "episodes",
        "normalized_a", "normalized_b", "difference", "difference_ci_lower", "difference_ci_upper",
        "pairs", "optimal_rate_a", "optimal_rate_b", "only_a_optimal", "only_b_optimal", "p_value", "p_adjusted", "significant", "test",
    ];

    public static string Csv(ReportModel model) => Format.ToCsv(CsvHeader, model.Comparisons.Select(c => (IReadOnlyList<string>)
    [
        c.A.Model, c.A.Variant ?? "", c.A.Naming ?? "", c.B.Model, c.B.Variant ?? "", c.B.Naming ?? "",
        c.Episodes.ToString(CultureInfo.InvariantCulture),
        Format.Csv(c.MeanA), Format.Csv(c.MeanB), Format.Csv(c.Difference.Estimate), Format.Csv(c.Difference.Lower), Format.Csv(c.Difference.Upper),
        c.Pairs.ToString(CultureInfo.InvariantCulture),
        Format.Csv(c.Pairs > 0 ? (double)c.OptimalA / c.Pairs : null), Format.Csv(c.Pairs > 0 ? (double)c.OptimalB / c.Pairs : null),
        c.OnlyA.ToString(CultureInfo.InvariantCulture), c.OnlyB.ToString(CultureInfo.InvariantCulture),
        PValueCsv(c.PValue), PValueCsv(c.PAdjusted), double.IsNaN(c.PAdjusted) ? "" : c.PAdjusted < Alpha ? "true" : "false",
        double.IsNaN(c.PValue) ? "" : c.Test,
    ]));

    /// <summary>p-values keep their small magnitudes (no rounding to 0).</summary>
    private static string PValueCsv(double p) => double.IsNaN(p) ? "" : p.ToString("G6", CultureInfo.InvariantCulture);

    public static readonly string[] Header = ["A", "B", "episodes", "A − B [95% CI]", "optimal A / B", "only A / only B", "p (McNemar; † sign-flip over episodes)", "p adjusted (Holm)"];

    public static IEnumerable<List<string>> Rows(ReportModel model) => model.Comparisons.Select(c => new List<string>
    {
        c.A.Label, c.B.Label, Format.Count(c.Episodes), Format.SignedInterval(c.Difference),
        c.Pairs > 0 ? $"{Format.Percent((double)c.OptimalA / c.Pairs)} / {Format.Percent((double)c.OptimalB / c.Pairs)}" : Format.Missing,
        $"{Format.Count(c.OnlyA)} / {Format.Count(c.OnlyB)}", Format.PValue(c.PValue) + (c.Test == ComparisonRow.SignFlip && !double.IsNaN(c.PValue) ? " †" : ""),
        Format.PValue(c.PAdjusted) + (c.PAdjusted < Alpha ? " *" : ""),
    });

    public static void Markdown(StringBuilder text, ReportModel model)
    {
        text.Append(Method).Append(" * = p adjusted < ").Append(Alpha.ToString(CultureInfo.InvariantCulture)).Append(".\n\n");
        Format.MarkdownTable(text, Header, [false, false, true, true, true, true, true, true], Rows(model));
    }
}
