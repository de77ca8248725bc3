using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;

namespace CausalEval.Baseline.Tests;

public sealed class TrainingTests
{
    [Fact]
    public async Task A_tiny_training_run_learns_the_experts_systematic_exploration()
    {
        var result = BaselineFixtures.Train(BaselineFixtures.Tiny(steps: 150));

        Assert.Equal(1.0, result.Card.Training.FinalExploreAccuracy);
        // Then it plays new (test-split) worlds: one experiment per variable, exactly as the expert does.
        using var policy = new TorchPolicy(result.Network, result.Card);
        foreach (var episode in DatasetGenerator.Generate(BaselineFixtures.TinyTask, "test"))
        {
            var transcript = await EpisodeEngine.RunAsync(episode, new TorchAgent(policy), 7);
            var scores = EpisodeScoring.Score(new ScoringInput(episode, transcript));
            Assert.Equal(1.0, scores.ExploreCoverage);
            Assert.Equal(0, scores.InvalidActions + scores.ParseFailures);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_other_weights()
    {
        using var temp = new TempDirectory();

        string Weights(ulong seed, string name)
        {
            var result = BaselineFixtures.Train(BaselineFixtures.Tiny(steps: 20, seed));
            using var policy = new TorchPolicy(result.Network, result.Card);
            return policy.Save(Path.Combine(temp.Path, name), result.Card).WeightsSha256!;
        }

        var first = Weights(3, "a");
        var again = Weights(3, "b");
        var other = Weights(4, "c");

        Assert.Equal(first, again);
        Assert.Equal(File.ReadAllBytes(Path.Combine(temp.Path, "a", ModelCard.WeightsFileName)),
            File.ReadAllBytes(Path.Combine(temp.Path, "b", ModelCard.WeightsFileName)));
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void A_checkpoint_loads_back_with_the_same_card_and_the_same_outputs()
    {
        using var temp = new TempDirectory();
        var result = BaselineFixtures.Train(BaselineFixtures.Tiny(steps: 10));
        using var trained = new TorchPolicy(result.Network, result.Card);
        var view = BaselineFixtures.ExploitView();
        var before = trained.Predict(view);

        var saved = trained.Save(temp.Path, result.Card);
        using var loaded = TorchPolicy.Load(temp.Path, "test");

        Assert.Equal(saved.ToJson(), loaded.Card.ToJson());
        Assert.Equal(saved.Training, loaded.Card.Training);
        var after = loaded.Predict(view);
        Assert.Equal(before.Actions, after.Actions);
        Assert.Equal(before.Edges, after.Edges);
        Assert.Equal(TorchPolicy.Sha256(Path.Combine(temp.Path, ModelCard.WeightsFileName)), loaded.Card.WeightsSha256);
    }

    [Fact]
    public void Train_demonstrations_come_from_train_splits_and_never_hold_the_heldout_link()
    {
        var catalog = new TaskCatalog(BaselineFixtures.Datasets);
        var task = catalog.Load("explore-exploit-heldout-link");

        var set = Demonstrations.Build([task], 50, DataCondition.Interventional, 0, EncoderShape.Default);

        Assert.Equal("train", Assert.Single(set.Sources).Split);
        Assert.Equal("D->B", set.Sources[0].HeldoutLinkExcluded);
        Assert.All(DatasetGenerator.Generate(task, "train", 50), e => Assert.False(e.World.HasEdge("D", "B")));
        // Five explore labels and one exploit label per episode, no structure question in this task.
        Assert.Equal(50 * 5, set.Kinds.Count(k => k == (byte)LabelKind.Explore));
        Assert.Equal(50, set.Kinds.Count(k => k == (byte)LabelKind.Exploit));
    }

    [Fact]
    public void Observational_demonstrations_show_no_intervention_and_label_only_the_exploit_step()
    {
        var set = Demonstrations.Build([BaselineFixtures.TinyTask], 20, DataCondition.Observational, 0, EncoderShape.Default);
        var shape = set.Shape;

        for (var i = 0; i < set.Episodes * set.Tokens; i++)
        {
            Assert.Equal(0, set.Features[i * shape.Features + shape.HasAction]);
        }
        Assert.Equal(20, set.Kinds.Count(k => k != (byte)LabelKind.None));
        Assert.All(set.Kinds, k => Assert.True(k is (byte)LabelKind.None or (byte)LabelKind.Exploit));
    }

    [Fact]
    public void The_learning_rate_warms_up_then_decays_to_a_tenth()
    {
        var options = new TrainingOptions { Steps = 1000, LearningRate = 1 };

        Assert.Equal(0.01, Trainer.LearningRate(options, 1), 6);
        Assert.Equal(1, Trainer.LearningRate(options, 100), 6);
        Assert.Equal(0.1, Trainer.LearningRate(options, 1000), 6);
    }
}
