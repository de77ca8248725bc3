using System.Text;
using System.Text.Json.Nodes;
using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;
using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;
using CausalEval.Reporting.Input;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Input;

public sealed class EpisodeTruthTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Every_trials_posteriors_equal_the_observer_inferring_its_evidence_from_scratch_and_a_second_pass_gives_the_same_bytes()
    {
        const string task = "explore-exploit";
        var run = RealRuns.Play(_temp.Sub("run"), [task], 3);
        var catalog = TaskCatalog.Locate(RealRuns.Datasets());
        var definition = catalog.Load(task);
        var episodes = catalog.LoadSplit(task, "test", 3).ToDictionary(e => e.Id, StringComparer.Ordinal);
        var lines = File.ReadAllLines(Path.Combine(run, "trials.jsonl"));
        var refs = new[] { new EpisodeTruth.ManifestTaskRef(task, definition.Version, "test", TaskCatalog.Sha256(catalog.SplitPath(task, "test"))) };
        var transcripts = lines.Select(l => Encoding.UTF8.GetBytes(l)).ToList();

        var first = EpisodeTruth.Json(refs, transcripts, RealRuns.Datasets(), [])!;
        var again = EpisodeTruth.Json(refs, transcripts, RealRuns.Datasets(), [])!;

        Assert.Equal(first, again); // the second pass finds every posterior cached: the same bytes
        var truth = JsonNode.Parse(first)!["trials"]!.AsObject();
        Assert.Equal(lines.Length, truth.Count);
        foreach (var line in lines.Select(l => JsonNode.Parse(l)!))
        {
            var episode = episodes[line["episode"]!.GetValue<string>()];
            var model = ObserverModel.For(definition, episode.Brief);
            var shown = truth[line["trial_id"]!.GetValue<string>()]!.AsArray();
            var samples = new List<EvidenceSample>();
            var at = 0;
            foreach (var step in line["steps"]!.AsArray().Where(s => s!["phase"]!.GetValue<string>() == "explore"))
            {
                AssertTop(IdealObserver.Infer(model, samples), shown[at++]!);
                if (step!["status"]!.GetValue<string>() == "valid")
                {
                    var action = new Intervention(step["action"]!["variable"]!.GetValue<string>(), step["action"]!["value"]!.GetValue<double>());
                    samples.Add(new EvidenceSample(action, [.. episode.Brief.Variables.Select(v => step["observation"]![v]!.GetValue<double>())]));
                }
            }
            AssertTop(IdealObserver.Infer(model, samples), shown[at++]!);
            Assert.Equal(at, shown.Count);
        }
    }

    [Fact]
    public void Past_the_pages_share_no_further_episode_is_computed_and_the_trials_written_are_the_first_of_the_full_view()
    {
        const string task = "explore-exploit";
        var (refs, transcripts) = Played(task, 3); // 3 episodes × 3 agents
        var full = EpisodeTruth.Json(refs, transcripts, RealRuns.Datasets(), [])!;
        var fullTrials = JsonNode.Parse(full)!["trials"]!.AsObject();
        // A share that the episodes and the first trial's posteriors pass: the rest of the trials are left out.
        var text = Encoding.UTF8.GetString(full);
        var share = text.IndexOf("\"trials\":{", StringComparison.Ordinal) + 20;
        var notes = new List<string>();
        var computed = new List<int>();

        var capped = EpisodeTruth.Json(refs, transcripts, RealRuns.Datasets(), notes, maxBytes: share, batchGroups: 1, computedTrials: computed.Add)!;

        Assert.Equal([3], computed); // the first episode's three trials, no other episode
        var cappedNode = JsonNode.Parse(capped)!;
        Assert.Equal(JsonNode.Parse(full)!["episodes"]!.ToJsonString(), cappedNode["episodes"]!.ToJsonString());
        var first = Assert.Single(cappedNode["trials"]!.AsObject());
        Assert.Equal(fullTrials.First().Key, first.Key);
        Assert.Equal(fullTrials.First().Value!.ToJsonString(), first.Value!.ToJsonString());
        Assert.Contains(notes, n => n.Contains("no posteriors for 8 embedded trials", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cancelled_truth_view_stops_before_computing_any_posterior()
    {
        var (refs, transcripts) = Played("explore-exploit", 1);
        var computed = 0;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            EpisodeTruth.Json(refs, transcripts, RealRuns.Datasets(), [], cancelled.Token, computedTrials: n => computed += n));

        Assert.Equal(0, computed);
    }

    [Fact]
    public void Preparing_passes_over_what_the_truth_view_would_not_use_and_the_view_is_the_same_bytes_after_it()
    {
        var (refs, transcripts) = Played("explore-exploit", 2);
        var before = EpisodeTruth.Json(refs, transcripts, RealRuns.Datasets(), [])!;
        var catalog = TaskCatalog.Locate(RealRuns.Datasets());
        EpisodeTruth.ManifestTaskRef[] others =
        [
            new("no-such-task", 1, "test", "00"),
            refs[0] with { DatasetSha256 = "00" }, // another split than the one played
            refs[0] with { Version = refs[0].Version + 1 },
            new("odd-one-out", catalog.Load("odd-one-out").Version, "test", TaskCatalog.Sha256(catalog.SplitPath("odd-one-out", "test"))),
        ];

        EpisodeTruth.Prepare(others, RealRuns.Datasets(), CancellationToken.None);
        EpisodeTruth.Prepare(refs, _temp.Sub("no-datasets"), CancellationToken.None); // no such folder: nothing to prepare
        EpisodeTruth.Prepare(refs, RealRuns.Datasets(), CancellationToken.None);

        Assert.Equal(before, EpisodeTruth.Json(refs, transcripts, RealRuns.Datasets(), []));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => EpisodeTruth.Prepare(refs, RealRuns.Datasets(), cancelled.Token));
    }

    private (EpisodeTruth.ManifestTaskRef[] Refs, List<byte[]> Transcripts) Played(string task, int episodes)
    {
        var run = RealRuns.Play(_temp.Sub("run"), [task], episodes);
        var catalog = TaskCatalog.Locate(RealRuns.Datasets());
        var refs = new[] { new EpisodeTruth.ManifestTaskRef(task, catalog.Load(task).Version, "test", TaskCatalog.Sha256(catalog.SplitPath(task, "test"))) };
        return (refs, [.. File.ReadAllLines(Path.Combine(run, "trials.jsonl")).Select(l => Encoding.UTF8.GetBytes(l))]);
    }

    private static void AssertTop(Posterior expected, JsonNode shown)
    {
        var top = expected.Top(EpisodeTruth.TopHypotheses);
        var rows = shown["top"]!.AsArray();
        Assert.Equal(top.Length, rows.Count);
        for (var i = 0; i < top.Length; i++)
        {
            // The page keeps four significant digits; the scratch pass and the cached chain of updates agree far closer.
            Assert.Equal(top[i].Probability, rows[i]!["p"]!.GetValue<double>(), top[i].Probability * 1e-3);
            Assert.Equal(top[i].Edges.Select(e => $"{e.From}>{e.To}{(e.Weight > 0 ? "+" : "-")}"),
                rows[i]!["edges"]!.AsArray().Select(e => e!.GetValue<string>()));
        }
    }
}
