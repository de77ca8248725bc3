using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using CausalEval.Reporting.Analysis;
using CausalEval.Reporting.Input;

namespace CausalEval.Reporting.Output;

/// <summary>
/// <c>report.html</c>: one self-contained page that works offline — CSS, script, figures (SVG as data URIs) and the
/// episode browser's transcripts are all inside it; nothing is fetched. Tables are rendered here, so they read
/// without script; the script sorts tables and runs the episode browser. <c>#trial=ID</c> opens a transcript.
/// </summary>
internal static class HtmlReport
{
    /// <param name="truth">The episode browser's truth view (<see cref="EpisodeTruth"/>), embedded as <c>"truth"</c>; null: none.</param>
    /// <param name="truthNotes">Why parts of the truth view are missing.</param>
    public static string Render(ReportModel model, string title, IReadOnlyList<PlotFile> plots, byte[]? truth = null, IReadOnlyList<string>? truthNotes = null)
    {
        var html = new StringBuilder(1 << 20);
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"generator\" content=\"causaleval report\">\n")
            .Append("<title>").Append(E(title)).Append(" — CausalEval</title>\n<style>\n").Append(Asset("report.css")).Append("</style>\n</head>\n<body>\n");
        html.Append("<header>\n<h1>").Append(E(title)).Append("</h1>\n<p>").Append(E(LeaderboardFiles.RunsLine(model))).Append("</p>\n");
        html.Append("<p>Tasks: ").Append(E(string.Join(", ", model.Data.Runs.Tasks.Select(t => $"{t.Id} v{t.Version} ({t.Split}, {t.Episodes} episodes)")))).Append("</p>\n");
        foreach (var warning in model.Data.Warnings)
        {
            html.Append("<p class=\"warning\">").Append(E(warning)).Append("</p>\n");
        }
        html.Append("<nav><a href=\"#leaderboard\">Leaderboard</a><a href=\"#plots\">Plots</a><a href=\"#comparisons\">Comparisons</a>")
            .Append("<a href=\"#ablation\">Ablation</a><a href=\"#episodes\">Episode browser</a><a href=\"#method\">Method</a></nav>\n</header>\n<main>\n");

        Leaderboard(html, model);
        Figures(html, plots);
        Comparisons(html, model);
        Ablation(html, model);
        Episodes(html, model, truth is not null, truthNotes ?? []);
        Method(html, model);

        html.Append("</main>\n<script type=\"application/json\" id=\"report-data\">");
        TranscriptJson(html, model, truth);
        html.Append("</script>\n<script>\n").Append(Asset("report.js")).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Leaderboard(StringBuilder html, ReportModel model)
    {
        html.Append("<section id=\"leaderboard\">\n<h2>Leaderboard</h2>\n<p class=\"method\">").Append(E(LeaderboardFiles.TieRuleText)).Append("</p>\n");
        html.Append("<h3>Overall</h3>\n");
        LeaderboardTable(html, model, model.Overall, "leaderboard-overall");
        foreach (var (task, rows) in model.ByTask)
        {
            html.Append("<h3>").Append(E(task)).Append("</h3>\n");
            LeaderboardTable(html, model, rows, "leaderboard-" + task);
        }
        html.Append("</section>\n");
    }

    private static void LeaderboardTable(StringBuilder html, ReportModel model, IReadOnlyList<LeaderboardRow> rows, string id)
    {
        var (header, right, cells) = LeaderboardFiles.Columns(model);
        Table(html, id, header, right, rows.Select(r => (cells(r), r.TiedWithAbove != TieRule.None ? "tied" : null)));
    }

    private static void Figures(StringBuilder html, IReadOnlyList<PlotFile> plots)
    {
        html.Append("<section id=\"plots\">\n<h2>Plots</h2>\n");
        foreach (var plot in plots)
        {
            html.Append("<figure id=\"plot-").Append(plot.Name).Append("\"><img alt=\"").Append(E(plot.Caption))
                .Append("\" width=\"").Append(plot.Width).Append("\" height=\"").Append(plot.Height)
                .Append("\" src=\"data:image/svg+xml;base64,").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(plot.Svg)))
                .Append("\"><figcaption>").Append(E(plot.Caption)).Append(" (also plots/").Append(plot.Name).Append(".png and .svg)</figcaption></figure>\n");
        }
        html.Append("</section>\n");
    }

    private static void Comparisons(StringBuilder html, ReportModel model)
    {
        html.Append("<section id=\"comparisons\">\n<h2>Paired comparisons</h2>\n<p class=\"method\">").Append(E(ComparisonFiles.Method))
            .Append(" Highlighted: p adjusted &lt; 0.05. Also in comparisons.csv.</p>\n");
        if (model.Comparisons.Count == 0)
        {
            html.Append("<p>Only one entry: nothing to compare.</p>\n");
        }
        else
        {
            Table(html, "comparisons-table", ComparisonFiles.Header, [false, false, true, true, true, true, true, true],
                ComparisonFiles.Rows(model).Zip(model.Comparisons, (cells, c) => (cells, c.PAdjusted < ComparisonFiles.Alpha ? "significant" : null)));
        }
        html.Append("</section>\n");
    }

    private static void Ablation(StringBuilder html, ReportModel model)
    {
        html.Append("<section id=\"ablation\">\n<h2>Prompt ablation</h2>\n");
        if (model.Ablation is not { } ablation)
        {
            html.Append("<p>These runs hold fewer than two prompt variants and fewer than two naming schemes: there is no ablation to show.</p>\n</section>\n");
            return;
        }
        html.Append("<p class=\"method\">").Append(E(AblationFiles.Method)).Append(" Also in ablation.md and ablation.csv.</p>\n<h3>Main effects</h3>\n");
        if (ablation.Effects.Count == 0)
        {
            html.Append("<p>No two prompt conditions differ in exactly one factor for the same model.</p>\n");
        }
        else
        {
            Table(html, "ablation-effects", AblationFiles.EffectHeader, [false, false, false, true, true, true],
                AblationFiles.EffectRows(ablation).Zip(ablation.Effects, (cells, e) => (cells, e.Difference.IsDefined && !e.Difference.Contains(0) ? "significant" : null)));
        }
        if (ablation.Variants.Count > 0)
        {
            html.Append("<h3>Prompt variant × model</h3>\n<p class=\"method\">Mean normalized score [95% CI], pooled over naming schemes.</p>\n");
            var (header, rows) = AblationFiles.Grid(ablation.Models, ablation.Variants, ablation.VariantByModel, c => c.Variant);
            Table(html, "ablation-variants", header, [false, .. ablation.Variants.Select(_ => true)], rows.Select(r => (r, (string?)null)));
        }
        if (ablation.Namings.Count > 0)
        {
            html.Append("<h3>Naming scheme × model</h3>\n<p class=\"method\">Mean normalized score [95% CI], pooled over prompt variants.</p>\n");
            var (header, rows) = AblationFiles.Grid(ablation.Models, ablation.Namings, ablation.NamingByModel, c => c.Naming);
            Table(html, "ablation-namings", header, [false, .. ablation.Namings.Select(_ => true)], rows.Select(r => (r, (string?)null)));
        }
        html.Append("</section>\n");
    }

    private static void Episodes(StringBuilder html, ReportModel model, bool truth, IReadOnlyList<string> truthNotes)
    {
        var totalEpisodes = model.Data.EpisodeIds.Sum(e => e.Count);
        var keptEpisodes = model.TranscriptEpisodes.Values.Sum();
        html.Append("<section id=\"episodes\">\n<h2>Episode browser</h2>\n<p class=\"method\">")
            .Append(E(string.Create(CultureInfo.InvariantCulture,
                $"This page embeds {model.Transcripts.Count:N0} transcripts of {model.Data.Trials:N0} trials: for up to {TranscriptSampler.EpisodesPerTask} episodes per task " +
                $"({keptEpisodes:N0} of {totalEpisodes:N0} episodes here, chosen by a stable hash of task and episode id, so the same ones every time), the first epoch of every " +
                $"model × prompt variant × naming scheme, so models can be set side by side on the same episode. To keep the page small, embedded transcripts are capped at " +
                $"{TranscriptSampler.MaxTotalBytes >> 20} MB in all (a task with long transcripts keeps fewer episodes) and any text longer than " +
                $"{TranscriptSampler.MaxStringChars:N0} characters is cut. Every trial's full transcript is in trials.jsonl. A link to one transcript: report.html#trial=ID.")))
            .Append("</p>\n");
        if (truth)
        {
            html.Append("<p class=\"method\">").Append(E(string.Create(CultureInfo.InvariantCulture,
                $"The truth view of a causal-DAG trial, from the committed split the run played: the true graph (green +1, red −1, dashed: the hidden root), " +
                $"the total effects between observables, every exploit action's true value with the optimal ones marked, the ideal observer's Bayes exploit given " +
                $"the trial's evidence, its {EpisodeTruth.TopHypotheses} most probable hypotheses before each explore step and after the last (computed when this " +
                $"page was written), and every embedded entry on the same episode side by side."))).Append("</p>\n");
        }
        foreach (var note in truthNotes)
        {
            html.Append("<p class=\"method\">").Append(E(note)).Append("</p>\n");
        }
        html.Append("<div class=\"filters\">");
        foreach (var (name, label) in new[] { ("task", "Task"), ("model", "Model"), ("prompt_variant", "Prompt variant"), ("naming", "Naming"), ("episode", "Episode") })
        {
            html.Append("<label>").Append(label).Append(" <select id=\"f-").Append(name).Append("\"></select></label>");
        }
        html.Append("</div>\n<p id=\"trial-count\"></p>\n<div class=\"browser\"><ul id=\"trial-list\"></ul><article id=\"transcript\">")
            .Append("<p>The episode browser needs JavaScript.</p></article></div>\n</section>\n");
    }

    private static void Method(StringBuilder html, ReportModel model)
    {
        html.Append("<section id=\"method\">\n<h2>Method</h2>\n<p class=\"method\">").Append(E(LeaderboardFiles.MethodFor(model))).Append("</p>\n<p class=\"method\">")
            .Append(E(LeaderboardFiles.TieRuleText)).Append("</p>\n<p class=\"method\">").Append(E(ComparisonFiles.Method)).Append("</p>\n</section>\n");
    }

    /// <summary>
    /// <c>{"transcripts": [trial, …]}</c>. The compact lines were written by System.Text.Json's default encoder, which
    /// escapes <c>&lt;</c>, <c>&gt;</c> and <c>&amp;</c>, so no transcript text can close the script element.
    /// </summary>
    private static void TranscriptJson(StringBuilder html, ReportModel model, byte[]? truth)
    {
        html.Append("{\"transcripts\":[");
        for (var i = 0; i < model.Transcripts.Count; i++)
        {
            if (i > 0)
            {
                html.Append(",\n");
            }
            html.Append(Encoding.UTF8.GetString(model.Transcripts[i]));
        }
        html.Append(']');
        if (truth is not null)
        {
            // Written by System.Text.Json's default encoder too: no text in it can close the script element.
            html.Append(",\n\"truth\":").Append(Encoding.UTF8.GetString(truth));
        }
        html.Append('}');
    }

    private static void Table(StringBuilder html, string id, IReadOnlyList<string> header, IReadOnlyList<bool> right,
        IEnumerable<(List<string> Cells, string? Class)> rows)
    {
        html.Append("<div class=\"table-wrap\"><table class=\"sortable\" id=\"").Append(E(id)).Append("\"><thead><tr>");
        for (var i = 0; i < header.Count; i++)
        {
            html.Append(right[i] ? "<th class=\"num\">" : "<th>").Append(E(header[i])).Append("</th>");
        }
        html.Append("</tr></thead><tbody>\n");
        foreach (var (cells, cls) in rows)
        {
            html.Append(cls is null ? "<tr>" : $"<tr class=\"{cls}\">");
            for (var i = 0; i < cells.Count; i++)
            {
                html.Append(right[i] ? "<td class=\"num\">" : "<td>").Append(E(cells[i])).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody></table></div>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Asset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("CausalEval.Reporting.Output.Assets." + name)
            ?? throw new InvalidOperationException($"embedded asset {name} is missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
