using CausalEval.Reporting.Output;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Output;

public class PlotsTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void A_run_without_an_ablation_gets_the_leaderboard_and_score_by_task_as_png_and_svg_with_text()
    {
        var plots = Plots.Render(Loaded.Model(Fixtures.Snapshot()));

        Assert.Equal(["leaderboard", "score_by_task"], plots.Select(p => p.Name));
        foreach (var plot in plots)
        {
            Assert.Equal(PngSignature, plot.Png[..8]);
            Assert.True(plot.Png.Length > 10_000, $"{plot.Name}.png is only {plot.Png.Length} bytes");
            Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", plot.Svg, StringComparison.Ordinal);
        }
        // Labels are drawn as text: the model names are in the SVG.
        Assert.Contains("openai/model-a [few-shot]", plots[0].Svg, StringComparison.Ordinal);
        Assert.Contains("passive-exploit-observational", plots[1].Svg, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ablation_adds_its_heatmap()
    {
        var plots = Plots.Render(Loaded.Model(Fixtures.Ablation(episodes: 4)));

        var heatmap = Assert.Single(plots, p => p.Name == "ablation_heatmap");
        Assert.Equal(PngSignature, heatmap.Png[..8]);
        Assert.Contains("few-shot-explanations-reasoning · semantic", heatmap.Svg, StringComparison.Ordinal);
        Assert.Contains("openai/alpha", heatmap.Svg, StringComparison.Ordinal);
        if (Environment.GetEnvironmentVariable("CAUSALEVAL_PLOT_DIR") is { } directory)
        {
            // For looking at the figures: CAUSALEVAL_PLOT_DIR=/tmp/plots dotnet test --filter PlotsTests
            Directory.CreateDirectory(directory);
            foreach (var plot in plots)
            {
                File.WriteAllBytes(Path.Combine(directory, plot.Name + ".png"), plot.Png);
            }
        }
    }

    [Fact]
    public void Long_labels_are_shortened_only_where_they_stay_distinguishable()
    {
        var common = "openrouter/meta-llama/llama-3.3-70b-instruct?temperature=0&max_tokens=";
        string[] labels = [common + "512 [few-shot-explanations-reasoning]", common + "256 [few-shot-explanations-reasoning]", "builtin/expert", new string('x', 80)];

        var shown = Plots.DistinctLabels(labels, 72);

        // Every entry stays distinct and none is longer than needed: short labels untouched, long ones within the limit or whole.
        Assert.Equal(labels.Length, shown.Distinct().Count());
        Assert.Equal("builtin/expert", shown[2]);
        Assert.Equal(72, shown[3].Length);
        Assert.EndsWith("x", shown[3], StringComparison.Ordinal);
        Assert.Contains("…", shown[3], StringComparison.Ordinal);
        // The two settings differ near the end, which the shortened labels keep: still two entries, each within the limit.
        Assert.NotEqual(shown[0], shown[1]);
        Assert.All(shown, l => Assert.True(l.Length <= 72, l));
    }

    [Fact]
    public void Labels_that_shorten_alike_are_kept_whole()
    {
        var a = new string('a', 40) + "-one-" + new string('z', 40);
        var b = new string('a', 40) + "-two-" + new string('z', 40);

        var shown = Plots.DistinctLabels([a, b], 36);

        Assert.Equal([a, b], shown);
    }
}
