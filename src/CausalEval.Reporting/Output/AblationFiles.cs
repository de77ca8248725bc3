using System.Globalization;
using System.Text;
using CausalEval.Reporting.Analysis;

namespace CausalEval.Reporting.Output;

/// <summary><c>ablation.md</c> and <c>ablation.csv</c>: the prompt-ablation tables and main effects.</summary>
internal static class AblationFiles
{
    public static readonly string Method =
        "Main effect of a factor = mean paired difference in normalized score between two prompt conditions that differ only in that factor "
        + "(same model, same other factor, same episode; each episode's epochs averaged first), with a 95% bootstrap interval that resamples "
        + "episodes (2,000 resamples, fixed seed). shots: few-shot − zero-shot; explanations: few-shot-explanations − few-shot; "
        + "reasoning: few-shot-explanations-reasoning − few-shot-explanations; names: each naming scheme against letters, and semantic against nonsense. "
        + "An interval that excludes 0 means the factor changed the score.";

    public static string Markdown(ReportModel model, AblationResult ablation)
    {
        var text = new StringBuilder();
        text.Append("# Prompt ablation\n\n").Append(LeaderboardFiles.RunsLine(model)).Append("\n\n").Append(Method).Append("\n\n");
        AppendBody(text, ablation);
        return text.ToString();
    }

    public static void AppendBody(StringBuilder text, AblationResult ablation)
    {
        text.Append("## Main effects\n\n");
        Format.MarkdownTable(text, EffectHeader, [false, false, false, true, true, true], EffectRows(ablation));
        if (ablation.Variants.Count > 0)
        {
            text.Append("\n## Prompt variant × model (mean normalized [95% CI], pooled over naming schemes)\n\n");
            var (header, rows) = Grid(ablation.Models, ablation.Variants, ablation.VariantByModel, c => c.Variant);
            Format.MarkdownTable(text, header, [false, .. ablation.Variants.Select(_ => true)], rows);
        }
        if (ablation.Namings.Count > 0)
        {
            text.Append("\n## Naming scheme × model (mean normalized [95% CI], pooled over prompt variants)\n\n");
            var (header, rows) = Grid(ablation.Models, ablation.Namings, ablation.NamingByModel, c => c.Naming);
            Format.MarkdownTable(text, header, [false, .. ablation.Namings.Select(_ => true)], rows);
        }
    }

    public static readonly string[] EffectHeader = ["factor", "contrast", "scope", "difference [95% CI]", "matched pairs", "episodes"];

    public static IEnumerable<List<string>> EffectRows(AblationResult ablation) => ablation.Effects.Select(e => new List<string>
    {
        e.Factor, e.Contrast, e.Scope, Format.SignedInterval(e.Difference), Format.Count(e.MatchedPairs), Format.Count(e.Episodes),
    });

    public static (List<string> Header, List<List<string>> Rows) Grid(
        IReadOnlyList<string> models, IReadOnlyList<string> levels, IReadOnlyList<AblationCell> cells, Func<AblationCell, string?> level)
    {
        var header = new List<string> { "model" };
        header.AddRange(levels);
        var rows = models.Select(m =>
        {
            var row = new List<string> { m };
            row.AddRange(levels.Select(l => cells.FirstOrDefault(c => c.Model == m && level(c) == l) is { } cell ? Format.Interval(cell.Normalized) : Format.Missing));
            return row;
        }).ToList();
        return (header, rows);
    }

    public static readonly string[] CsvHeader =
    [
        "kind", "model", "prompt_variant", "naming", "factor", "contrast_on", "contrast_off", "trials", "episodes", "matched_pairs",
        "value", "ci_lower", "ci_upper", "optimal_rate", "parse_failure_rate",
    ];

    /// <summary>
    /// kind <c>cell</c>: one model under one variant and naming (<c>*</c> = pooled over that factor); kind <c>effect</c>: a main effect
    /// (model <c>all models</c> or one model), value = mean paired difference on − off.
    /// </summary>
    public static string Csv(AblationResult ablation)
    {
        var cells = ablation.Cells.Concat(ablation.VariantByModel).Concat(ablation.NamingByModel).Select(c => (IReadOnlyList<string>)
        [
            "cell", c.Model, c.Variant ?? "", c.Naming ?? "", "", "", "", c.Trials.ToString(CultureInfo.InvariantCulture),
            c.Episodes.ToString(CultureInfo.InvariantCulture), "",
            Format.Csv(c.Normalized.Estimate), Format.Csv(c.Normalized.Lower), Format.Csv(c.Normalized.Upper), Format.Csv(c.OptimalRate), Format.Csv(c.ParseFailureRate),
        ]);
        var effects = ablation.Effects.Select(e => (IReadOnlyList<string>)
        [
            "effect", e.Scope, "", "", e.Factor, e.On, e.Off, "", e.Episodes.ToString(CultureInfo.InvariantCulture),
            e.MatchedPairs.ToString(CultureInfo.InvariantCulture),
            Format.Csv(e.Difference.Estimate), Format.Csv(e.Difference.Lower), Format.Csv(e.Difference.Upper), "", "",
        ]);
        return Format.ToCsv(CsvHeader, effects.Concat(cells));
    }
}
