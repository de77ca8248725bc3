using System.Collections.Concurrent;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Randomness;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.Agents;

/// <summary>The reference agents on every committed test episode of the five tasks.</summary>
public class BuiltinAgentSuiteTests
{
    private sealed record Played(Episode Episode, EpisodeTranscript Transcript, Scores Scores);

    private static readonly ConcurrentDictionary<(string Agent, string Task), Lazy<Task<IReadOnlyList<Played>>>> Cache = new();

    private static Task<IReadOnlyList<Played>> PlayAsync(string agent, string task)
        => Cache.GetOrAdd((agent, task), key => new Lazy<Task<IReadOnlyList<Played>>>(() => PlayAllAsync(key.Agent, key.Task))).Value;

    private static async Task<IReadOnlyList<Played>> PlayAllAsync(string agentName, string taskId)
    {
        var factory = BuiltinAgents.All[agentName].Create;
        var results = new List<Played>();
        foreach (var episode in Repo.TestSplit(taskId))
        {
            var trialId = $"{taskId}/{episode.Id}/{agentName}";
            var agent = factory(new TrialContext(trialId, episode, 1, StableId.Seed("agent", trialId), null));
            var transcript = await EpisodeEngine.RunAsync(episode, agent, StableId.Seed("environment", taskId, episode.Id));
            results.Add(new Played(episode, transcript, EpisodeScoring.Score(new ScoringInput(episode, transcript))));
        }
        return results;
    }

    private static async Task<double> SuiteMeanNormalizedAsync(string agent)
    {
        var all = new List<double>();
        foreach (var task in Repo.TaskIds)
        {
            all.AddRange((await PlayAsync(agent, task)).Select(p => p.Scores.Normalized ?? 0));
        }
        Assert.Equal(1000, all.Count);
        return all.Average();
    }

    public static TheoryData<string> Tasks() => Repo.AllTasks();

    [Fact]
    public void TheReferenceAgentsAreRegistered()
    {
        Assert.Equal(["associative", "bayes", "correlational", "expert", "optimal", "random", "shortcut", "training-support"], BuiltinAgents.All.Keys);
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public async Task Optimal_HasExactlyZeroRegretOnEveryCommittedTestEpisode(string task)
    {
        var played = await PlayAsync("optimal", task);

        Assert.True(played.Count >= 200);
        Assert.All(played, p =>
        {
            Assert.Equal(0.0, p.Scores.Regret);
            Assert.Equal(1, p.Scores.OptimalAction);
            Assert.Equal(1.0, p.Scores.Normalized);
            Assert.True(p.Scores.OptimalValue > 0, $"{p.Episode.Id}: the target must be movable");
        });
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public async Task NoReferenceAgent_EverGivesAnInvalidOrUnreadableAnswer(string task)
    {
        foreach (var agent in BuiltinAgents.All.Keys.Where(a => BuiltinAgents.Plays(a, Repo.Catalog.Load(task).Family)))
        {
            var played = await PlayAsync(agent, task);
            Assert.All(played, p =>
            {
                Assert.Equal(0, p.Scores.InvalidActions);
                Assert.Equal(0, p.Scores.ParseFailures);
                Assert.NotNull(p.Scores.ExploitValue);
            });
        }
    }

    [Fact]
    public async Task Random_MeanNormalizedOverTheSuiteIsAboutZero()
    {
        var mean = await SuiteMeanNormalizedAsync("random");

        Assert.InRange(mean, -0.1, 0.1);
    }

    [Fact]
    public async Task Expert_MeanNormalizedOverTheSuiteIsAtLeast95Percent()
    {
        var mean = await SuiteMeanNormalizedAsync("expert");

        Assert.True(mean >= 0.95, $"expert mean normalized over the suite = {mean:0.0000}");
    }

    [Fact]
    public async Task Expert_OnTasksWithInterventionalEvidence_IsNearlyOptimal()
    {
        foreach (var task in new[] { "explore-exploit", "explore-exploit-heldout-link", "explore-exploit-heldout-subset", "passive-exploit-interventional" })
        {
            var played = await PlayAsync("expert", task);
            var mean = played.Average(p => p.Scores.Normalized ?? 0);
            Assert.True(mean >= 0.95, $"{task}: expert mean normalized {mean:0.0000}");
        }
    }

    [Fact]
    public async Task Expert_CoversEveryCuedVariable()
    {
        foreach (var task in new[] { "explore-exploit", "explore-exploit-heldout-link", "explore-exploit-heldout-subset" })
        {
            Assert.All(await PlayAsync("expert", task), p => Assert.Equal(1.0, p.Scores.ExploreCoverage));
        }
        Assert.All(await PlayAsync("expert", "explore-exploit-heldout-subset"), p => Assert.Equal(1.0, p.Scores.SubsetAdherence));
        Assert.All(await PlayAsync("expert", "passive-exploit-interventional"), p => Assert.Null(p.Scores.ExploreCoverage));
    }

    [Fact]
    public async Task TrainingSupport_IsNeverOptimalWhereTheHeldOutLinkMatters()
    {
        var played = await PlayAsync("training-support", "explore-exploit-heldout-link");

        Assert.All(played, p =>
        {
            Assert.Equal(0, p.Scores.OptimalAction);
            Assert.True(p.Scores.Regret > 0, $"{p.Episode.Id}: regret {p.Scores.Regret}");
        });
    }

    [Theory]
    [InlineData("explore-exploit")]
    [InlineData("explore-exploit-heldout-subset")]
    [InlineData("passive-exploit-interventional")]
    [InlineData("passive-exploit-observational")]
    public async Task TrainingSupport_EqualsOptimalWhenThereIsNoHeldOutLink(string task)
    {
        var support = await PlayAsync("training-support", task);
        var optimal = await PlayAsync("optimal", task);

        Assert.Equal(optimal.Count, support.Count);
        for (var i = 0; i < support.Count; i++)
        {
            Assert.Equal(optimal[i].Scores, support[i].Scores);
            Assert.Equal(optimal[i].Transcript.Exploit!.Action, support[i].Transcript.Exploit!.Action);
        }
    }

    [Fact]
    public async Task Expert_RecoversTheExactObservableGraphOnMostExploreExploitEpisodes()
    {
        var played = await PlayAsync("expert", "explore-exploit");

        Assert.All(played, p => Assert.NotNull(p.Scores.StructureF1));
        var exact = played.Count(p => p.Scores.StructureF1 == 1.0 && p.Scores.Shd == 0);
        Assert.True(exact >= 0.95 * played.Count, $"exact graph on {exact} of {played.Count} episodes");
    }

    [Fact]
    public async Task Optimal_AnswersTheStructureQuestionWithTheTrueGraph()
    {
        Assert.All(await PlayAsync("optimal", "explore-exploit"), p =>
        {
            Assert.Equal(1.0, p.Scores.StructureF1);
            Assert.Equal(0, p.Scores.Shd);
        });
    }

    [Fact]
    public async Task Correlational_IsFooledMoreOftenByObservationalEvidenceWithAHiddenConfounder()
    {
        var observational = await PlayAsync("correlational", "passive-exploit-observational");
        var interventional = await PlayAsync("correlational", "passive-exploit-interventional");
        var expertInterventional = await PlayAsync("expert", "passive-exploit-interventional");

        var fooled = observational.Count(p => p.Scores.OptimalAction == 0) / (double)observational.Count;
        Assert.True(fooled > 0.1, $"correlation should mislead on a good share of observational episodes (got {fooled:0.000})");
        Assert.True(observational.Average(p => p.Scores.Normalized ?? 0) < expertInterventional.Average(p => p.Scores.Normalized ?? 0));
        Assert.True(interventional.Count > 0);
    }

    [Fact]
    public async Task Expert_ExploresEachBriefByItsOwnVariables_AlsoAfterAnotherBriefOfTheSameEpisode()
    {
        // The explore decisions are made once per brief and shared: a brief made from another with other variables
        // (a `with` copy equal in every other field) must get its own, and the first keeps its own.
        var episode = Repo.TestSplit("explore-exploit").First();
        var brief = episode.Brief;
        var reversed = brief with { ExploreVariables = [.. brief.ExploreVariables.Reverse()] };
        async Task<string[]> ExploredAsync(EpisodeBrief b)
        {
            var agent = BuiltinAgents.All["expert"].Create(new TrialContext("t", episode, 1, 1, null));
            var chosen = new List<string>();
            for (var step = 0; step < b.ExploreSteps; step++)
            {
                var decision = await agent.DecideAsync(new EpisodeView(b, Phase.Explore, step, null, []), default);
                chosen.Add(decision.Action!.Value.Variable);
            }
            return [.. chosen];
        }

        Assert.Equal(brief.ExploreVariables, await ExploredAsync(brief));
        Assert.Equal(reversed.ExploreVariables, await ExploredAsync(reversed));
        Assert.Equal(brief.ExploreVariables, await ExploredAsync(brief));
    }

    [Fact]
    public async Task Random_IsReproducibleForTheSameTrialSeed()
    {
        var episode = Repo.TestSplit("explore-exploit")[0];
        var factory = BuiltinAgents.All["random"].Create;
        async Task<string> Play(ulong seed)
        {
            var transcript = await EpisodeEngine.RunAsync(episode, factory(new TrialContext("t", episode, 1, seed, null)), 1);
            return string.Join(";", transcript.Steps.Select(s => s.Action?.ToString() ?? string.Join(",", s.Decision.Edges ?? [])));
        }

        Assert.Equal(await Play(5), await Play(5));
        var others = new HashSet<string>();
        for (ulong seed = 0; seed < 10; seed++)
        {
            others.Add(await Play(seed));
        }
        Assert.True(others.Count > 1);
    }
}
