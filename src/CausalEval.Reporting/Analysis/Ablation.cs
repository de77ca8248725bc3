using CausalEval.Reporting.Input;
using CausalEval.Reporting.Statistics;

namespace CausalEval.Reporting.Analysis;

/// <summary>The prompt factors of the LLM issue's variants, read from their names.</summary>
internal static class PromptFactors
{
    /// <summary>Known variants, in the order tables show them (others follow, sorted).</summary>
    public static readonly IReadOnlyList<string> VariantOrder = ["zero-shot", "few-shot", "few-shot-explanations", "few-shot-explanations-reasoning"];

    /// <summary>Known naming schemes, in table order (others follow, sorted).</summary>
    public static readonly IReadOnlyList<string> NamingOrder = ["letters", "semantic", "nonsense"];

    public static readonly IReadOnlyList<string> VariantFactors = ["shots", "explanations", "reasoning"];

    /// <summary>
    /// <c>zero-shot</c> or <c>few-shot</c>, then optionally <c>-explanations</c> and <c>-reasoning</c>, as the set of
    /// factors switched on; null for a name of another shape (it is shown in tables but takes part in no main effect).
    /// </summary>
    public static IReadOnlySet<string>? Parse(string variant)
    {
        var factors = new HashSet<string>(StringComparer.Ordinal);
        string rest;
        if (variant.StartsWith("zero-shot", StringComparison.Ordinal))
        {
            rest = variant["zero-shot".Length..];
        }
        else if (variant.StartsWith("few-shot", StringComparison.Ordinal))
        {
            factors.Add("shots");
            rest = variant["few-shot".Length..];
        }
        else
        {
            return null;
        }
        foreach (var part in rest.Split('-', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part is not ("explanations" or "reasoning") || !factors.Add(part))
            {
                return null;
            }
        }
        return rest.Length == 0 || rest[0] == '-' ? factors : null;
    }

    public static List<string> Ordered(IEnumerable<string> levels, IReadOnlyList<string> known)
        => [.. levels.Distinct(StringComparer.Ordinal)
            .OrderBy(l => known.IndexOf(l) is var i && i >= 0 ? i : known.Count)
            .ThenBy(l => l, StringComparer.Ordinal)];

    private static int IndexOf(this IReadOnlyList<string> list, string item)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] == item)
            {
                return i;
            }
        }
        return -1;
    }
}

/// <summary>A model under one prompt condition, pooled over the other factor when <see cref="Variant"/> or <see cref="Naming"/> is "*".</summary>
internal sealed record AblationCell(
    string Model, string? Variant, string? Naming, long Trials, int Episodes, ConfidenceInterval Normalized, double? OptimalRate, double? ParseFailureRate);

/// <summary>
/// The main effect of one factor: the mean paired difference (on − off) in normalized score between two prompt
/// conditions that differ only in that factor, same model, same other factor, same episode.
/// </summary>
internal sealed record AblationEffect(
    string Factor, string On, string Off, string Scope, int MatchedPairs, int Episodes, ConfidenceInterval Difference)
{
    public string Contrast => $"{On} − {Off}";
}

internal sealed record AblationResult(
    IReadOnlyList<string> Models,
    IReadOnlyList<string> Variants,
    IReadOnlyList<string> Namings,
    IReadOnlyList<AblationCell> VariantByModel,
    IReadOnlyList<AblationCell> NamingByModel,
    IReadOnlyList<AblationCell> Cells,
    IReadOnlyList<AblationEffect> Effects);

/// <summary>
/// Prompt ablation over the entries that carry a prompt variant or naming scheme: tables of models × variants and
/// models × naming schemes, and the main effect of each factor (shots, explanations, reasoning, names) with 95%
/// paired-bootstrap intervals that resample episodes.
/// </summary>
internal static class AblationAnalysis
{
    public const string AllModels = "all models";
    public const string Pooled = "*";

    /// <returns>Null when the runs hold fewer than two prompt variants and fewer than two naming schemes.</returns>
    public static AblationResult? Build(ReportData data)
    {
        var prompted = Enumerable.Range(0, data.Entries.Count)
            .Where(e => data.Entries[e].Variant is not null || data.Entries[e].Naming is not null).ToList();
        var variants = PromptFactors.Ordered(prompted.Select(e => data.Entries[e].Variant).OfType<string>(), PromptFactors.VariantOrder);
        var namings = PromptFactors.Ordered(prompted.Select(e => data.Entries[e].Naming).OfType<string>(), PromptFactors.NamingOrder);
        if (variants.Count < 2 && namings.Count < 2)
        {
            return null;
        }
        var models = prompted.Select(e => data.Entries[e].Model).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        // Every cell and effect is independent (intervals are seeded per resample): computed on all cores, listed in order.
        var cellJobs = new List<(IReadOnlyList<int> Entries, string Model, string? Variant, string? Naming, int Table)>();
        foreach (var model in models)
        {
            foreach (var variant in variants)
            {
                cellJobs.Add(([.. prompted.Where(e => data.Entries[e].Model == model && data.Entries[e].Variant == variant)], model, variant, Pooled, 0));
            }
            foreach (var naming in namings)
            {
                cellJobs.Add(([.. prompted.Where(e => data.Entries[e].Model == model && data.Entries[e].Naming == naming)], model, Pooled, naming, 1));
            }
            foreach (var e in prompted.Where(e => data.Entries[e].Model == model)
                         .OrderBy(e => data.Entries[e].Variant is { } v ? variants.IndexOf(v) : -1)
                         .ThenBy(e => data.Entries[e].Naming is { } n ? namings.IndexOf(n) : -1))
            {
                cellJobs.Add(([e], model, data.Entries[e].Variant, data.Entries[e].Naming, 2));
            }
        }
        var cellResults = new AblationCell?[cellJobs.Count];
        Parallel.For(0, cellJobs.Count, k => cellResults[k] = Cell(data, cellJobs[k].Entries, cellJobs[k].Model, cellJobs[k].Variant, cellJobs[k].Naming));
        List<AblationCell> Table(int table) => [.. cellJobs.Select((job, k) => (job, cell: cellResults[k])).Where(p => p.job.Table == table && p.cell is not null).Select(p => p.cell!)];
        var byVariant = Table(0);
        var byNaming = Table(1);
        var cells = Table(2);

        var effectJobs = new List<(string Factor, string On, string Off, string Scope, List<(string Model, int On, int Off)> Matches)>();
        foreach (var (factor, on, off) in Contrasts(variants, namings))
        {
            var isNames = factor == "names";
            // Matched entries: same model and same other factor, this factor at "on" and at "off".
            var matches = new List<(string Model, int On, int Off)>();
            foreach (var e in prompted)
            {
                var key = data.Entries[e];
                if ((isNames ? key.Naming : key.Variant) != on)
                {
                    continue;
                }
                var offKey = isNames ? key with { Naming = off } : key with { Variant = off };
                var offIndex = prompted.FindIndex(o => data.Entries[o] == offKey);
                if (offIndex >= 0)
                {
                    matches.Add((key.Model, e, prompted[offIndex]));
                }
            }
            if (matches.Count == 0)
            {
                continue;
            }
            effectJobs.Add((factor, on, off, AllModels, matches));
            foreach (var model in models)
            {
                var mine = matches.Where(m => m.Model == model).ToList();
                if (mine.Count > 0)
                {
                    effectJobs.Add((factor, on, off, model, mine));
                }
            }
        }
        var effectResults = new AblationEffect[effectJobs.Count];
        Parallel.For(0, effectJobs.Count, k => effectResults[k] = Effect(data, effectJobs[k].Factor, effectJobs[k].On, effectJobs[k].Off, effectJobs[k].Scope, effectJobs[k].Matches));
        var effects = effectResults.ToList();
        return new AblationResult(models, variants, namings, byVariant, byNaming, cells, effects);
    }

    /// <summary>
    /// (factor, on, off): for each variant factor, every pair of variants that differ only in it; for names, each scheme
    /// against <c>letters</c> and <c>semantic</c> against <c>nonsense</c> (others against the first scheme).
    /// </summary>
    internal static List<(string Factor, string On, string Off)> Contrasts(IReadOnlyList<string> variants, IReadOnlyList<string> namings)
    {
        var contrasts = new List<(string, string, string)>();
        var parsed = variants.Select(v => (Name: v, Factors: PromptFactors.Parse(v))).Where(v => v.Factors is not null).ToList();
        foreach (var factor in PromptFactors.VariantFactors)
        {
            foreach (var off in parsed.Where(v => !v.Factors!.Contains(factor)))
            {
                foreach (var on in parsed.Where(v => v.Factors!.Contains(factor)))
                {
                    if (on.Factors!.SetEquals(off.Factors!.Append(factor)))
                    {
                        contrasts.Add((factor, on.Name, off.Name));
                    }
                }
            }
        }
        if (namings.Count >= 2)
        {
            var baseline = namings.Contains("letters") ? "letters" : namings[0];
            foreach (var naming in namings.Where(n => n != baseline))
            {
                contrasts.Add(("names", naming, baseline));
            }
            if (namings.Contains("semantic") && namings.Contains("nonsense") && baseline != "semantic" && baseline != "nonsense")
            {
                contrasts.Add(("names", "semantic", "nonsense"));
            }
        }
        return contrasts;
    }

    private static AblationEffect Effect(ReportData data, string factor, string on, string off, string scope, List<(string Model, int On, int Off)> matches)
    {
        // Differences of per-episode means, clustered by episode: every model and condition on one episode moves together.
        var clusters = new SortedDictionary<long, (double Sum, int Count)>();
        var pairs = 0;
        foreach (var (_, onEntry, offEntry) in matches)
        {
            var offCells = data.ScoredCells(offEntry, null).ToDictionary(c => c.Episode, c => c.Cell);
            foreach (var (episode, cell) in data.ScoredCells(onEntry, null))
            {
                if (offCells.TryGetValue(episode, out var offCell))
                {
                    var key = data.SortKey(episode);
                    clusters.TryGetValue(key, out var total);
                    clusters[key] = (total.Sum + cell.MeanNormalized - offCell.MeanNormalized, total.Count + 1);
                    pairs++;
                }
            }
        }
        var interval = Bootstrap.FromClusterTotals([.. clusters.Values.Select(c => c.Sum)], [.. clusters.Values.Select(c => c.Count)]);
        return new AblationEffect(factor, on, off, scope, pairs, clusters.Count, interval);
    }

    private static AblationCell? Cell(ReportData data, IEnumerable<int> entries, string model, string? variant, string? naming)
    {
        var clusters = new SortedDictionary<long, (double Sum, int Count)>();
        long trials = 0, scored = 0, optimal = 0, parse = 0, decisions = 0;
        foreach (var entry in entries)
        {
            foreach (var (task, entryTask) in data.ByEntry[entry])
            {
                foreach (var (episode, cell) in entryTask.Cells)
                {
                    trials += cell.Trials;
                    if (cell.Scored == 0)
                    {
                        continue;
                    }
                    var key = data.SortKey(new EpisodeRef(task, episode));
                    clusters.TryGetValue(key, out var total);
                    clusters[key] = (total.Sum + cell.NormalizedSum, total.Count + cell.Scored);
                    scored += cell.Scored;
                    optimal += cell.OptimalSum;
                    parse += cell.ParseFailures;
                    decisions += cell.Decisions;
                }
            }
        }
        if (trials == 0)
        {
            return null;
        }
        var normalized = Bootstrap.FromClusterTotals([.. clusters.Values.Select(c => c.Sum)], [.. clusters.Values.Select(c => c.Count)]);
        return new AblationCell(model, variant, naming, trials, clusters.Count, normalized,
            scored > 0 ? (double)optimal / scored : null, decisions > 0 ? (double)parse / decisions : null);
    }
}
