using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;
using CausalEval.Core.Randomness;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Inference;

public class ObserverScoringTests
{
    private static async Task<(Episode Episode, EpisodeTranscript Transcript, Scores Scores)> PlayAsync(string agent, string task, int episodeIndex)
    {
        var episode = Repo.TestSplit(task)[episodeIndex];
        var definition = Repo.Catalog.Load(task);
        var trialId = $"{task}/{episode.Id}/{agent}";
        var player = BuiltinAgents.All[agent].Create(new TrialContext(trialId, episode, 1, StableId.Seed("agent", trialId), null, null, definition));
        var transcript = await EpisodeEngine.RunAsync(episode, player, StableId.Seed("environment", task, episode.Id));
        return (episode, transcript, EpisodeScoring.Score(new ScoringInput(episode, transcript, definition), EpisodeScoring.WithObserver));
    }

    [Theory]
    [InlineData("random", "explore-exploit")]
    [InlineData("expert", "explore-exploit-heldout-subset")]
    [InlineData("correlational", "passive-exploit-interventional")]
    [InlineData("random", "passive-exploit-observational")]
    public async Task Decomposition_ExplorationPlusInferenceRegret_IsTheRegret(string agent, string task)
    {
        for (var i = 0; i < 5; i++)
        {
            var (_, _, scores) = await PlayAsync(agent, task, i);

            Assert.NotNull(scores.EvidenceValue);
            Assert.Equal(scores.Regret!.Value, scores.ExplorationRegret!.Value + scores.InferenceRegret!.Value, 9);
            Assert.True(scores.ExplorationRegret >= -1e-9, "the evidence value never beats the optimum");
        }
    }

    [Fact]
    public async Task ExpertOnExploreExploit_HasNoExplorationRegret_AfterOneExperimentPerVariable()
    {
        // With σ = 0.1 and |v| = 5, one intervention on each variable pins every total effect down.
        for (var i = 0; i < 10; i++)
        {
            var (_, _, scores) = await PlayAsync("expert", "explore-exploit", i);

            Assert.Equal(0, scores.ExplorationRegret!.Value, 9);
            Assert.Equal(scores.Regret!.Value, scores.InferenceRegret!.Value, 9);
        }
    }

    [Fact]
    public async Task Bayes_ChoosesTheMostInformativeExperimentAtEveryStep()
    {
        for (var i = 0; i < 5; i++)
        {
            var (_, transcript, scores) = await PlayAsync("bayes", "explore-exploit", i);
            var analysis = ObserverScoring.Analyse(Repo.TestSplit("explore-exploit")[i], transcript, Repo.Catalog.Load("explore-exploit"))!;

            Assert.Equal(5, analysis.Steps.Length);
            Assert.All(analysis.Steps, s => Assert.Equal(s.Best, s.Chosen, 12));
            Assert.True(scores.ExploreEfficiency is null or 1.0);
        }
    }

    [Fact]
    public void Information_InvalidOrRepeatedSteps_CountWhatTheyTeach()
    {
        // A scripted transcript on the collider A→C←B: do(C = 5) shows C has no effect on A or B; an invalid step (0 bits
        // chosen); the same experiment again (≈ 0 bits), while do(A) — its effects on B and C unknown — still has bits to give.
        var world = HandWorlds.Collider();
        var episode = new Episode("hand", world, "C", 7, new EpisodeOptions { ExploreSteps = 3 });
        var first = new StepRecord(0, Phase.Explore, AgentDecision.Act(new Intervention("C", 5)), StepStatus.Valid, null, [0.03, -0.05, 5.0]);
        var invalid = new StepRecord(1, Phase.Explore, AgentDecision.Act(new Intervention("Q", 5)), StepStatus.Invalid, "unknown", default);
        var again = new StepRecord(2, Phase.Explore, AgentDecision.Act(new Intervention("C", 5)), StepStatus.Valid, null, [-0.08, 0.11, 5.0]);
        var exploit = new StepRecord(3, Phase.Exploit, AgentDecision.Act(new Intervention("A", 5)), StepStatus.Valid, null, default);
        var transcript = new EpisodeTranscript([first, invalid, again, exploit]);

        var analysis = ObserverScoring.Analyse(episode, transcript, null)!;

        Assert.Equal(3, analysis.Steps.Length);
        Assert.Equal(analysis.Steps[0].Best, analysis.Steps[0].Chosen, 12); // from the prior every variable carries the same bits
        Assert.Equal(0, analysis.Steps[1].Chosen);
        Assert.True(analysis.Steps[2].Chosen < 1e-6, "repeating an experiment whose outcome is known teaches nothing");
        Assert.True(analysis.Steps[2].Best > 0.5, "another variable is still uncertain");
    }
}
