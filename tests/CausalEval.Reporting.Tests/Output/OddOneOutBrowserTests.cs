using System.Text;
using System.Text.RegularExpressions;
using CausalEval.Core.Agents;
using CausalEval.Core.Results;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Reporting.Output;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Output;

/// <summary>An odd-one-out run (played by the real runner) in report.html: the episode browser shows each trial's objects, moves and outcomes.</summary>
public sealed class OddOneOutBrowserTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Datasets()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CausalEval.sln")))
            {
                return Path.Combine(dir.FullName, "datasets");
            }
        }
        throw new InvalidOperationException("repository root not found");
    }

    /// <summary>Two test episodes of odd-one-out played by builtin/expert and builtin/random, as a run folder.</summary>
    private async Task<(string Run, List<TrialRecord> Records, List<Core.Episodes.TaskEpisode> Episodes)> WriteRun()
    {
        var catalog = new TaskCatalog(Datasets());
        var task = catalog.Load("odd-one-out");
        var episodes = catalog.LoadEpisodes(task, TaskDefinition.TestSplit, 2).ToList();
        var plan = new RunPlan { Tasks = [task], Models = ["builtin/expert", "builtin/random"], Concurrency = 1 };
        var store = new Lines();
        await new Runner(new ModelCatalog([new BuiltinModelProvider()]), TimeProvider.System)
            .RunAsync(plan, [new TaskEpisodes(task, episodes)], store, new Leaderboard());
        // run.json from the synthetic writer (same tasks and models), trials.jsonl from the runner.
        var specs = store.Records.Select(r => new Support.TrialSpec { Task = r.Spec.TaskId, Episode = r.Spec.Episode.Id, Model = r.Spec.Model }).ToList();
        var run = SyntheticRun.Write(_temp.Sub("run"), specs, runId: "ooo-run");
        File.WriteAllText(Path.Combine(run, JsonlResultStore.FileName), string.Concat(store.Records.Select(r => Json(r) + "\n")), new UTF8Encoding(false));
        return (run, store.Records, episodes);
    }

    [Fact]
    public async Task The_report_legend_says_what_the_scores_mean_on_odd_one_out_tasks()
    {
        var (run, _, _) = await WriteRun();

        var report = ReportGenerator.Generate(new ReportOptions([run], _temp.Sub("report"))).OutputDirectory;

        var markdown = File.ReadAllText(Path.Combine(report, "leaderboard.md"));
        Assert.Contains(LeaderboardFiles.Method + " " + LeaderboardFiles.OddOneOutMethod, markdown, StringComparison.Ordinal);
        Assert.Contains("### odd-one-out\n\nOdd-one-out: optimal = exploit correct (the pick is unique along the concept); normalized = (correct − 1/4) ÷ (3/4).",
            markdown, StringComparison.Ordinal);
        Assert.Contains("so optimal = exploit correct and regret = 1 − correct", File.ReadAllText(Path.Combine(report, "report.html")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_episode_browser_shows_the_objects_moves_and_outcomes_of_an_odd_one_out_trial()
    {
        var (run, records, episodes) = await WriteRun();
        var html = Path.Combine(ReportGenerator.Generate(new ReportOptions([run], _temp.Sub("report"))).OutputDirectory, "report.html");
        var expert = records.First(r => r.Spec.Model == "builtin/expert");

        var dom = HeadlessChromium.DumpDom(new Uri(html).AbsoluteUri + "#trial=" + expert.Spec.TrialId);

        Assert.Contains("data-ready=\"true\"", dom, StringComparison.Ordinal);
        var transcript = Regex.Match(dom, "<article id=\"transcript\"[^>]*>.*?</article>", RegexOptions.Singleline).Value;
        Assert.Contains("<dt>concept</dt>", transcript, StringComparison.Ordinal);
        Assert.Contains("transform(A, colour)", transcript, StringComparison.Ordinal);
        Assert.Contains("pick(A)", transcript, StringComparison.Ordinal);
        Assert.Contains("<table class=\"objects\">", transcript, StringComparison.Ordinal);
        Assert.Matches("<tr class=\"marked\"><td>A</td>", transcript);
        Assert.Contains(">correct<", transcript, StringComparison.Ordinal);
        Assert.Contains(">incorrect<", transcript + dom, StringComparison.Ordinal);
        var first = (Core.OddOneOut.OddOneOutEpisode)episodes[0];
        Assert.Contains($"<td>{first.ExploitObjects[1].Colour}</td>", transcript, StringComparison.Ordinal);
        // The move and the objects are rendered, not dumped as raw JSON.
        Assert.DoesNotContain("\"kind\"", transcript, StringComparison.Ordinal);
    }

    private static string Json(TrialRecord record)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            TrialJson.Write(writer, record);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private sealed class Lines : IResultStore
    {
        public List<TrialRecord> Records { get; } = [];

        public ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
        {
            Records.Add(record);
            return ValueTask.CompletedTask;
        }
    }
}
