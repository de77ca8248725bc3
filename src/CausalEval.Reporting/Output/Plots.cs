using CausalEval.Reporting.Analysis;
using ScottPlot;

namespace CausalEval.Reporting.Output;

/// <summary>A rendered figure: its file name (without extension), caption, PNG bytes and SVG text.</summary>
internal sealed record PlotFile(string Name, string Caption, byte[] Png, string Svg, int Width, int Height);

/// <summary>
/// The report's figures, drawn with ScottPlot (SkiaSharp; the NoDependencies native assets need no system fonts or
/// libraries): the overall leaderboard as bars with 95% interval whiskers, the score by task for the top entries, and
/// the prompt-ablation heatmap when the runs hold an ablation.
/// </summary>
internal static class Plots
{
    /// <summary>Score by task shows at most this many entries (the best ranked) so that its bars stay readable.</summary>
    public const int MaxEntriesByTask = 8;

    private static readonly Color[] Palette = new ScottPlot.Palettes.Category10().Colors;

    public static List<PlotFile> Render(ReportModel model)
    {
        var plots = new List<PlotFile>();
        if (model.Overall.Count > 0)
        {
            plots.Add(Leaderboard(model));
        }
        if (model.ByTask.Count > 0 && model.Overall.Count > 0)
        {
            plots.Add(ScoreByTask(model));
        }
        if (model.Ablation is { } ablation && ablation.Cells.Count > 0)
        {
            plots.Add(AblationHeatmap(ablation));
        }
        return plots;
    }

    private static PlotFile Leaderboard(ReportModel model)
    {
        var rows = model.Overall;
        var plot = NewPlot();
        var n = rows.Count;
        var bars = new List<Bar>();
        var ys = new double[n];
        var values = new double[n];
        var below = new double[n];
        var above = new double[n];
        var ticks = new List<Tick>();
        var labels = DistinctLabels([.. rows.Select(r => r.Entry.Label)], 72);
        for (var i = 0; i < n; i++)
        {
            var row = rows[i];
            var y = n - 1 - i;
            var value = Finite(row.Normalized.Estimate);
            bars.Add(new Bar
            {
                Position = y,
                Value = value,
                FillColor = Palette[0].WithAlpha(row.TiedWithAbove == TieRule.None ? 0.85 : 0.55),
                LineWidth = 0,
                Orientation = Orientation.Horizontal,
                Size = 0.7,
            });
            ys[i] = y;
            values[i] = value;
            below[i] = row.Normalized.IsDefined ? value - row.Normalized.Lower : 0;
            above[i] = row.Normalized.IsDefined ? row.Normalized.Upper - value : 0;
            ticks.Add(new Tick(y, $"{row.Rank}{(row.TiedWithAbove != TieRule.None ? " ≈" : "")}  {labels[i]}", isMajor: true));
        }
        plot.Add.Bars(bars);
        var whiskers = plot.Add.ErrorBar(values, ys, [.. below.Select(_ => 0.0)]);
        whiskers.XErrorNegative = below;
        whiskers.XErrorPositive = above;
        whiskers.YErrorNegative = null;
        whiskers.YErrorPositive = null;
        whiskers.Color = Colors.Black;
        whiskers.LineWidth = 1.5f;
        whiskers.CapSize = 6;
        ReferenceLines(plot, vertical: true);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;
        var low = Math.Min(-0.05, rows.Where(r => r.Normalized.IsDefined).Select(r => r.Normalized.Lower).DefaultIfEmpty(0).Min() - 0.05);
        plot.Axes.SetLimits(low, 1.08, -0.6, n - 0.4);
        plot.Title("Mean normalized score, overall (95% CI; ≈ tied with the entry above)");
        plot.XLabel("normalized score (1 = optimal, 0 = random play)");
        return Save(plot, "leaderboard", "Overall leaderboard: mean normalized score with 95% bootstrap intervals.", 1200, 140 + 34 * n);
    }

    private static PlotFile ScoreByTask(ReportModel model)
    {
        var entries = model.Overall.Take(MaxEntriesByTask).ToList();
        var tasks = model.ByTask.Select(t => t.Task).ToList();
        var plot = NewPlot();
        var groupWidth = 0.8;
        var barWidth = groupWidth / entries.Count;
        var legend = DistinctLabels([.. entries.Select(x => x.Entry.Label)], 72);
        for (var e = 0; e < entries.Count; e++)
        {
            var bars = new List<Bar>();
            var ys = new List<double>();
            var xs = new List<double>();
            var below = new List<double>();
            var above = new List<double>();
            for (var t = 0; t < tasks.Count; t++)
            {
                var row = model.ByTask[t].Rows.FirstOrDefault(r => r.Entry == entries[e].Entry);
                if (row is null || !row.Normalized.IsDefined)
                {
                    continue;
                }
                // Tasks top to bottom, entries in rank order within a task.
                var y = (tasks.Count - 1 - t) + groupWidth / 2 - barWidth * (e + 0.5);
                bars.Add(new Bar
                {
                    Position = y,
                    Value = row.Normalized.Estimate,
                    FillColor = Palette[e % Palette.Length],
                    LineWidth = 0,
                    Orientation = Orientation.Horizontal,
                    Size = barWidth * 0.9,
                });
                ys.Add(y);
                xs.Add(row.Normalized.Estimate);
                below.Add(row.Normalized.Estimate - row.Normalized.Lower);
                above.Add(row.Normalized.Upper - row.Normalized.Estimate);
            }
            var barPlot = plot.Add.Bars(bars);
            barPlot.LegendText = legend[e];
            if (xs.Count > 0)
            {
                var whiskers = plot.Add.ErrorBar(xs, ys, [.. xs.Select(_ => 0.0)]);
                whiskers.XErrorNegative = below;
                whiskers.XErrorPositive = above;
                whiskers.YErrorNegative = null;
                whiskers.YErrorPositive = null;
                whiskers.Color = Colors.Black.WithAlpha(0.7);
                whiskers.CapSize = 3;
            }
        }
        ReferenceLines(plot, vertical: true);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. tasks.Select((task, t) => new Tick(tasks.Count - 1 - t, task, isMajor: true))]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;
        var shownEntries = entries.Select(e => e.Entry).ToHashSet();
        var low = Math.Min(-0.05, model.ByTask.SelectMany(t => t.Rows)
            .Where(r => r.Normalized.IsDefined && shownEntries.Contains(r.Entry)).Select(r => r.Normalized.Lower).DefaultIfEmpty(0).Min() - 0.05);
        plot.Axes.SetLimits(low, 1.08, -0.55, tasks.Count - 0.45);
        plot.ShowLegend(Edge.Right);
        var shown = entries.Count < model.Overall.Count ? $" (top {entries.Count} of {model.Overall.Count} entries)" : "";
        plot.Title($"Mean normalized score by task{shown}, 95% CI");
        plot.XLabel("normalized score");
        return Save(plot, "score_by_task", $"Mean normalized score per task{shown}, with 95% bootstrap intervals.",
            1200, 160 + tasks.Count * Math.Max(70, 22 * entries.Count));
    }

    private static PlotFile AblationHeatmap(AblationResult ablation)
    {
        // Rows: every prompt condition (variant · naming) present, top to bottom; columns: models. Labels stay horizontal.
        var conditions = ablation.Cells.Select(c => (c.Variant, c.Naming)).Distinct()
            .OrderBy(c => c.Variant is { } v ? ablation.Variants.ToList().IndexOf(v) : -1)
            .ThenBy(c => c.Naming is { } n ? ablation.Namings.ToList().IndexOf(n) : -1)
            .ToList();
        var models = ablation.Models;
        var values = new double[conditions.Count, models.Count];
        var plot = NewPlot();
        for (var r = 0; r < conditions.Count; r++)
        {
            for (var c = 0; c < models.Count; c++)
            {
                var cell = ablation.Cells.FirstOrDefault(x => x.Model == models[c] && x.Variant == conditions[r].Variant && x.Naming == conditions[r].Naming);
                values[r, c] = cell is { Normalized.IsDefined: true } ? cell.Normalized.Estimate : double.NaN;
            }
        }
        // Row 0 of the intensities is drawn at the top; cells are centred on whole coordinates.
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(-1, 1);
        heatmap.NaNCellColor = Colors.LightGray;
        for (var r = 0; r < conditions.Count; r++)
        {
            for (var c = 0; c < models.Count; c++)
            {
                if (double.IsNaN(values[r, c]))
                {
                    continue;
                }
                var label = plot.Add.Text(values[r, c].ToString("0.00", System.Globalization.CultureInfo.InvariantCulture), c, conditions.Count - 1 - r);
                label.LabelFontSize = 13;
                label.LabelBold = true;
                label.LabelFontColor = values[r, c] > 0.3 ? Colors.Black : Colors.White;
                label.LabelAlignment = Alignment.MiddleCenter;
            }
        }
        plot.Add.ColorBar(heatmap).Label = "mean normalized score";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. DistinctLabels(models, 36).Select((m, c) => new Tick(c, m, isMajor: true))]);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. conditions.Select((x, r) => new Tick(conditions.Count - 1 - r, ConditionLabel(x.Variant, x.Naming), isMajor: true))]);
        plot.Axes.SetLimits(-0.5, models.Count - 0.5, -0.5, conditions.Count - 0.5);
        plot.Grid.IsVisible = false;
        plot.Title("Prompt ablation: mean normalized score");
        return Save(plot, "ablation_heatmap", "Prompt ablation: mean normalized score of each model (columns) under each prompt variant and naming scheme (rows).",
            Math.Max(760, 420 + 190 * models.Count), 150 + 36 * conditions.Count);
    }

    private static string ConditionLabel(string? variant, string? naming) => (variant, naming) switch
    {
        (null, null) => "—",
        (_, null) => variant!,
        (null, _) => naming!,
        _ => $"{variant} · {naming}",
    };

    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.FigureBackground.Color = Colors.White;
        plot.Axes.Title.Label.FontSize = 16;
        return plot;
    }

    private static void ReferenceLines(Plot plot, bool vertical)
    {
        foreach (var (at, text) in new[] { (0.0, "random"), (1.0, "optimal") })
        {
            if (vertical)
            {
                var line = plot.Add.VerticalLine(at);
                line.Color = Colors.Gray.WithAlpha(0.8);
                line.LinePattern = LinePattern.Dashed;
                line.LineWidth = 1;
                line.Text = text;
                line.LabelOppositeAxis = true;
                line.LabelFontSize = 11;
                line.LabelBackgroundColor = Colors.Transparent;
                line.LabelFontColor = Colors.DimGray;
            }
        }
    }

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    /// <summary>
    /// Labels of at most <paramref name="max"/> characters where that keeps them apart: a long label keeps its start and
    /// its end (where model settings and variants differ) around an ellipsis. Labels that would then read alike — or a
    /// shortened label that reads like another label — stay whole: a plot never merges two entries into one name.
    /// </summary>
    internal static IReadOnlyList<string> DistinctLabels(IReadOnlyList<string> labels, int max)
    {
        static string Shorten(string text, int max) =>
            text.Length <= max ? text : string.Concat(text.AsSpan(0, (max - 1) / 2), "…", text.AsSpan(text.Length - (max - 1 - (max - 1) / 2)));
        var shortened = labels.Select(l => Shorten(l, max)).ToList();
        return [.. labels.Select((label, i) =>
            shortened.Where((s, j) => s == shortened[i] && labels[j] != label).Any() ? label : shortened[i])];
    }

    private static PlotFile Save(Plot plot, string name, string caption, int width, int height)
    {
        height = Math.Min(height, 4000);
        var png = plot.GetImageBytes(width, height, ImageFormat.Png);
        var svg = plot.GetSvgXml(width, height);
        return new PlotFile(name, caption, png, svg, width, height);
    }
}
