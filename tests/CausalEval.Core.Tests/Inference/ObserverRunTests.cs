using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;
using CausalEval.Core.Results;
using CausalEval.Core.Running;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Inference;

/// <summary>The ideal observer inside runs: every trial line carries the decomposition, and its values are the engine's.</summary>
public class ObserverRunTests
{
    private static readonly string[] DagTasks =
        ["explore-exploit", "explore-exploit-heldout-link", "explore-exploit-heldout-subset", "passive-exploit-interventional", "passive-exploit-observational"];

    /// <summary>Every built-in agent that plays causal-DAG tasks.</summary>
    private static readonly string[] Agents = [.. BuiltinAgents.All.Keys.Where(k => BuiltinAgents.Plays(k, "explore-exploit"))];

    private static async Task<(IReadOnlyList<TaskEpisodes> Tasks, IReadOnlyList<TrialRecord> Records)> RunAsync(bool observer)
    {
        var tasks = DagTasks.Select(id => new TaskEpisodes(Repo.Catalog.Load(id), [.. Repo.TestSplit(id).Take(2)])).ToList();
        var plan = new RunPlan
        {
            Tasks = [.. tasks.Select(t => t.Task)],
            Models = [.. Agents.Select(k => $"{BuiltinAgents.Prefix}/{k}")],
            Seed = 3,
            Concurrency = 2,
            Observer = observer,
        };
        var store = new InMemoryResultStore();
        await new Runner(new ModelCatalog([new BuiltinModelProvider()]), new FixedTimeProvider()).RunAsync(plan, tasks, store, new Leaderboard());
        return (tasks, store.Records);
    }

    private static JsonObject Line(TrialRecord record)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TrialJson.Write(writer, record);
        }
        return JsonNode.Parse(Encoding.UTF8.GetString(buffer.WrittenSpan))!.AsObject();
    }

    [Fact]
    public async Task Every_trial_line_of_a_run_carries_a_decomposition_that_sums_to_regret_and_equals_a_recomputation_from_scratch()
    {
        var (tasks, records) = await RunAsync(observer: true);
        var recomputed = new Dictionary<string, Posterior>(StringComparer.Ordinal);

        Assert.Equal(DagTasks.Length * 2 * Agents.Length, records.Count);
        foreach (var record in records)
        {
            var task = tasks.Single(t => t.Task.Id == record.Spec.Task!.Id).Task;
            var episode = (Episode)record.Spec.Episode;
            var scores = record.Scores!.Value;
            var line = Line(record);
            var written = line["scores"]!.AsObject();
            var what = $"{task.Id}/{episode.Id}/{record.Spec.Model}";

            // In the line as in the record, and summing to the regret.
            Assert.True(written["evidence_value"] is not null, what);
            Assert.Equal(scores.Regret!.Value, written["exploration_regret"]!.GetValue<double>() + written["inference_regret"]!.GetValue<double>(), 9);
            Assert.Equal(scores.OptimalValue, scores.EvidenceValue!.Value + scores.ExplorationRegret!.Value, 9);
            var steps = line["steps"]!.AsArray();
            var explore = steps.Where(s => s!["phase"]!.GetValue<string>() == "explore").ToList();
            Assert.All(explore, s => Assert.NotNull(s!["information"]));
            Assert.NotNull(steps.Single(s => s!["phase"]!.GetValue<string>() == "exploit")!["bayes_exploit"]);
            if (explore.Count > 0)
            {
                Assert.Equal(explore.Sum(s => s!["information"]!["chosen"]!.GetValue<double>()), written["explore_information"]!.GetValue<double>(), 9);
            }

            if (task.Generator.HiddenConfounder)
            {
                continue; // seconds per posterior: the committed summaries are checked against recomputations in ObserverCacheTests
            }
            // An independent recomputation: every posterior from all its samples at once (not the run's shared, updated ones).
            var model = ObserverModel.For(task, episode.Brief);
            Posterior Fresh(IReadOnlyList<EvidenceSample> samples)
            {
                var key = ObserverCache.Key(model, samples);
                if (!recomputed.TryGetValue(key, out var posterior))
                {
                    recomputed[key] = posterior = IdealObserver.Infer(model, samples);
                }
                return posterior;
            }
            var transcript = record.Transcript!;
            var final = Fresh(ObserverScoring.EvidenceBefore(episode.Brief, transcript.Steps, transcript.Steps.Length));
            var bayes = final.Exploit(episode.Target, episode.ExploitVariables, episode.Options.AllowedValues).Optimal;
            Assert.Equal(bayes.Average(a => episode.World.ExpectedUnder(a.Action, episode.Target)), scores.EvidenceValue!.Value, 9);
            foreach (var step in transcript.Steps.Where(s => s.Phase == Phase.Explore))
            {
                var before = Fresh(ObserverScoring.EvidenceBefore(episode.Brief, transcript.Steps, step.Index));
                var information = record.Observer!.Steps.Single(s => s.Step == step.Index);
                Assert.Equal(before.Experiments(episode.ExploreVariables, episode.Options.AllowedValues).Best[0].Bits, information.Best, 9);
                var chosen = step is { Status: StepStatus.Valid, Action: { } action } ? before.Information(action.Variable, action.Value) : 0;
                Assert.Equal(chosen, information.Chosen, 9);
            }
        }
    }

    [Fact]
    public async Task A_run_without_the_observer_writes_no_decomposition()
    {
        var (_, records) = await RunAsync(observer: false);

        Assert.All(records, r => Assert.Null(r.Scores!.Value.EvidenceValue));
        Assert.All(records, r => Assert.Null(r.Observer));
        Assert.All(records, r => Assert.DoesNotContain("information", Line(r)["steps"]!.ToJsonString(), StringComparison.Ordinal));
    }

    [Fact]
    public void Hand_worked_decomposition_a_lucky_exploit_has_negative_inference_regret()
    {
        // The cancelling chain A→B (+1), B→C (+1), A→C (−1), target C: TE[A→C] = 0, TE[B→C] = 1, so the optimum is
        // do(B = 5) = 5. One experiment do(A = 5) shows B = 4.96, C = 0.07 (the README's worked example): A→B is certain
        // and A→C absent or cancelled, and the posterior slightly favours B→C (−1), so the Bayes exploit is do(B = −5),
        // truly worth −5: exploration regret 5 − (−5) = 10. The agent plays do(A = 5), worth 0: inference regret
        // −5 − 0 = −5 (better than the Bayes answer given its evidence), and 10 + (−5) = 5 is its regret.
        var world = HandWorlds.CancellingChain();
        var episode = new Episode("hand", world, "C", 7, new EpisodeOptions { ExploreSteps = 1 });
        var explore = new StepRecord(0, Phase.Explore, AgentDecision.Act(new Intervention("A", 5)), StepStatus.Valid, null, [5.0, 4.96, 0.07]);
        var exploit = new StepRecord(1, Phase.Exploit, AgentDecision.Act(new Intervention("A", 5)), StepStatus.Valid, null, default);
        var transcript = new EpisodeTranscript([explore, exploit]);

        var scores = EpisodeScoring.Score(new ScoringInput(episode, transcript), EpisodeScoring.WithObserver);
        var analysis = ObserverScoring.Analyse(episode, transcript, null)!;

        Assert.Equal(new Intervention("B", -5), Assert.Single(analysis.BayesExploit).Action);
        Assert.Equal(5, scores.OptimalValue, 12);
        Assert.Equal(5, scores.Regret!.Value, 12);
        Assert.Equal(-5, scores.EvidenceValue!.Value, 12);
        Assert.Equal(10, scores.ExplorationRegret!.Value, 12);
        Assert.Equal(-5, scores.InferenceRegret!.Value, 12);
        // Before the experiment the prior is symmetric: every experiment carries the same bits, and do(A) is one of the best.
        Assert.Equal(analysis.Steps[0].Best, analysis.Steps[0].Chosen, 12);
        Assert.Equal(1, scores.ExploreEfficiency!.Value, 12);
    }
}
