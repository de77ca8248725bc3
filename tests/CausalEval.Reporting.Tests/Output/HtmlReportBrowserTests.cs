using System.Text.RegularExpressions;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Output;

/// <summary>report.html opened in a real browser (headless Chromium): tables rendered, the episode browser shows a transcript.</summary>
public sealed partial class HtmlReportBrowserTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Report(List<TrialSpec> trials)
    {
        var run = SyntheticRun.Write(_temp.Sub("run"), trials, runId: "browser-run");
        return Path.Combine(ReportGenerator.Generate(new ReportOptions([run], _temp.Sub("report"))).OutputDirectory, "report.html");
    }

    [Fact]
    public void The_leaderboard_renders_and_a_linked_transcript_shows_its_prompt_answer_action_and_observation()
    {
        var trials = Fixtures.Snapshot();
        var html = Report(trials);
        var trial = trials.First(t => t.Model == "openai/model-b" && t.Task == "explore-exploit" && t.Episode == "test-0003" && t.Epoch == 1);

        var dom = HeadlessChromium.DumpDom(new Uri(html).AbsoluteUri + "#trial=" + trial.TrialId);

        // The script ran to its end.
        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        // Every overall leaderboard row, in rank order, with the tie mark.
        var overall = Regex.Match(dom, "<table[^>]*id=\"leaderboard-overall\".*?</table>", RegexOptions.Singleline).Value;
        var rows = Regex.Matches(overall, "<tr[^>]*>\\s*<td>([^<]*)</td><td>([^<]*)</td>").Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal([("1", "builtin/expert"), ("2 ≈", "openai/model-a"), ("3 ≈", "openai/model-b"), ("4", "builtin/random")], rows);
        // The transcript of the linked trial: heading, the prompt's messages (as text, not markup), the raw answer,
        // the parsed action, the observation and the scores.
        var transcript = Regex.Match(dom, "<article id=\"transcript\"[^>]*>.*?</article>", RegexOptions.Singleline).Value;
        Assert.Contains($"data-trial=\"{trial.TrialId}\"", transcript, StringComparison.Ordinal);
        Assert.Contains("explore-exploit · test-0003 — openai/model-b [few-shot]", transcript, StringComparison.Ordinal);
        Assert.Contains("You are running experiments on a causal system. &lt;b&gt;not html&lt;/b&gt;", transcript, StringComparison.Ordinal);
        Assert.Contains("Step 0: choose an intervention for episode test-0003.", transcript, StringComparison.Ordinal);
        Assert.Contains("I will test A first.\nACTION: do(A = 5)", transcript, StringComparison.Ordinal);
        Assert.Contains("do(C = -5)", transcript, StringComparison.Ordinal);
        Assert.Contains("A = 5,  E = -4.98", transcript, StringComparison.Ordinal);
        Assert.Contains(">optimal_action<", transcript, StringComparison.Ordinal);
        // The list of transcripts was filtered to the trial's task and shows it as selected.
        Assert.Matches($"<li data-trial=\"{trial.TrialId}\" class=\"selected\">", dom);

        if (Environment.GetEnvironmentVariable("CAUSALEVAL_SCREENSHOT_DIR") is { } directory)
        {
            // To look at it: CAUSALEVAL_SCREENSHOT_DIR=/tmp/shots dotnet test --filter HtmlReportBrowserTests
            Directory.CreateDirectory(directory);
            HeadlessChromium.Screenshot(new Uri(html).AbsoluteUri, Path.Combine(directory, "report-top.png"));
            var browserOnly = Path.Combine(Path.GetDirectoryName(html)!, "browser-only.html");
            File.WriteAllText(browserOnly, File.ReadAllText(html).Replace("</head>",
                "<style>header,#leaderboard,#plots,#comparisons,#ablation{display:none}details{display:block}</style></head>", StringComparison.Ordinal));
            HeadlessChromium.Screenshot(new Uri(browserOnly).AbsoluteUri + "#trial=" + trial.TrialId, Path.Combine(directory, "report-transcript.png"));
        }
    }

    [Fact]
    public void The_page_is_self_contained()
    {
        var html = File.ReadAllText(Report(Fixtures.Ablation(episodes: 3)));

        // Nothing to fetch: every src and href is inline data or a link within the page.
        foreach (Match reference in SourceOrLink().Matches(html))
        {
            Assert.Matches("^(data:|#)", reference.Groups[1].Value);
        }
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        Assert.Contains("id=\"ablation-effects\"", html, StringComparison.Ordinal);
        Assert.Contains("id=\"plot-ablation_heatmap\"", html, StringComparison.Ordinal);
    }

    [GeneratedRegex("(?:src|href)=\"([^\"]*)\"")]
    private static partial Regex SourceOrLink();
}
