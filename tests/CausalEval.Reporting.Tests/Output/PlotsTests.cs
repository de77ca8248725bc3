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
}
