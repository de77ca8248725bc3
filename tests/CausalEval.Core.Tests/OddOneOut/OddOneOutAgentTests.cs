using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.OddOneOut;

public class OddOneOutAgentTests
{
    private static async Task<List<Scores>> Play(string agent, IEnumerable<OddOneOutEpisode> episodes)
    {
        var factory = BuiltinAgents.All[agent].Create;
        var scores = new List<Scores>();
        foreach (var episode in episodes)
        {
            var transcript = await OddOneOutEngine.RunAsync(episode, factory(new TrialContext("t", episode, 1, episode.Seed * 7 + 1, null)));
            scores.Add(OddOneOutScoring.Score(episode, transcript));
        }
        return scores;
    }

    private static IEnumerable<OddOneOutEpisode> AllTestSplits() => Repo.OddOneOutTaskIds.SelectMany(id => Repo.Puzzles(id));

    [Theory]
    [InlineData("optimal")]
    [InlineData("expert")]
    public async Task Optimal_and_expert_pick_right_in_every_committed_test_episode(string agent)
    {
        var scores = await Play(agent, AllTestSplits());

        Assert.All(scores, s => Assert.Equal((1, 1.0, 0), (s.OptimalAction, s.Normalized!.Value, s.InvalidActions + s.ParseFailures)));
    }

    [Fact]
    public async Task The_expert_tests_each_dimension_once_and_never_wastes_an_experiment_while_the_concept_is_unknown()
    {
        var episodes = Repo.Puzzles("odd-one-out");
        var scores = await Play("expert", episodes);

        Assert.All(scores, s => Assert.Equal((1.0, 1.0, 0.0), (s.ExploreCoverage!.Value, s.EvidenceValue!.Value, s.ExplorationRegret!.Value)));
        // Colour is tested first: when it is the concept the other two tests are certain (1 of 3 informative), else 2 of 3.
        foreach (var (episode, s) in episodes.Zip(scores))
        {
            Assert.Equal(episode.Concept == Dimension.Colour ? 1.0 / 3 : 2.0 / 3, s.InformativeExperiments!.Value, 12);
            Assert.Equal(1.0, s.ExploreEfficiency!.Value, 12);
        }
    }

    [Fact]
    public async Task The_shortcut_is_always_right_on_confounded_training_exploits_and_near_a_third_on_deconfounded_ones()
    {
        var task = Repo.Catalog.Load("odd-one-out-confounded");
        var train = await Play("shortcut", OddOneOutGenerator.Generate(task, TaskDefinition.TrainSplit, 200));
        var test = await Play("shortcut", AllTestSplits());

        Assert.All(train, s => Assert.Equal(1, s.OptimalAction));
        // Deconfounded: a uniform choice among the three objects odd along one dimension each (1/3; 600 episodes, ±4 s.e.).
        var rate = test.Average(s => s.OptimalAction);
        Assert.InRange(rate, 1.0 / 3 - 0.08, 1.0 / 3 + 0.08);
        // Its experiments settle the concept (no exploration regret): what it loses is inference.
        Assert.All(test, s => Assert.Equal(0.0, s.ExplorationRegret!.Value));
        Assert.InRange(test.Average(s => s.InferenceRegret!.Value), 2.0 / 3 - 0.08, 2.0 / 3 + 0.08);
    }

    [Fact]
    public async Task Random_play_is_right_about_a_quarter_of_the_time_so_its_normalized_score_is_near_zero()
    {
        var scores = await Play("random", AllTestSplits());

        Assert.InRange(scores.Average(s => s.OptimalAction), 0.25 - 0.075, 0.25 + 0.075);
        Assert.InRange(scores.Average(s => s.Normalized!.Value), -0.1, 0.1);
        Assert.All(scores, s => Assert.Equal(0, s.InvalidActions));
    }

    [Theory]
    [InlineData("optimal", true)]
    [InlineData("expert", true)]
    [InlineData("random", true)]
    [InlineData("shortcut", true)]
    [InlineData("correlational", false)]
    [InlineData("bayes", false)]
    [InlineData("training-support", false)]
    [InlineData("associative", false)]
    public void Built_in_agents_say_which_family_they_play(string agent, bool oddOneOut)
    {
        var catalog = new ModelCatalog([new BuiltinModelProvider()]);

        Assert.Equal(oddOneOut, catalog.Plays($"builtin/{agent}", TaskDefinition.OddOneOutFamily));
        Assert.Equal(agent != "shortcut", catalog.Plays($"builtin/{agent}", TaskDefinition.ExploreExploitFamily));
    }
}
