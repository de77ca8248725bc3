using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;

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
    public void Observational_demonstrations_show_no_intervention_and_label_only_the_exploit_step()
    {
        var set = Demonstrations.Build([BaselineFixtures.TinyTask], 20, DataCondition.Observational, 0, EncoderShape.Default, HeldOutRules.None);
        var shape = set.Shape;

        for (var i = 0; i < set.Episodes * set.Tokens; i++)
        {
            Assert.Equal(0, set.Features[i * shape.Features + shape.HasAction]);
        }
        Assert.Equal(20, set.Kinds.Count(k => k != (byte)LabelKind.None));
        Assert.All(set.Kinds, k => Assert.True(k is (byte)LabelKind.None or (byte)LabelKind.Exploit));
    }

    [Fact]
    public void The_observational_control_fits_its_own_data_well_above_chance()
    {
        // Ten observational samples of a 3-variable world with a hidden root, labelled with the expert's choice from them.
        var task = new TaskDefinition
        {
            Id = "tiny-observational",
            Version = 1,
            Family = TaskDefinition.PassiveExploitFamily,
            Generator = new SignedDagOptions { Variables = 3, HiddenConfounder = true },
            Episode = new EpisodeOptions { ExploreSteps = 0 },
            Evidence = new EvidenceRule(PassiveEvidence.Observational, 10),
            Train = new SplitRule(21, 400),
            Test = new SplitRule(22, 10),
        };
        var options = BaselineFixtures.Tiny(steps: 600) with { Tasks = [task.Id], EpisodesPerTask = 400, Data = DataCondition.Observational };
        var set = Demonstrations.Build([task], options.EpisodesPerTask, options.Data, options.Seed, options.Encoder, HeldOutRules.None);
        var labels = set.Actions.Where(a => a != DemonstrationSet.NoLabel).ToList();
        var commonest = labels.GroupBy(a => a).Max(g => g.Count()) / (double)labels.Count;

        var result = Trainer.Train(set, options, "test");

        // 2 other variables × 2 values: chance is about 1/4; always answering the commonest label scores `commonest`.
        var accuracy = result.Card.Training.TrainingSetExploitAccuracy!.Value;
        Assert.Equal(400, labels.Count);
        Assert.True(accuracy > commonest + 0.25, $"training-set exploit accuracy {accuracy:0.000}, commonest label {commonest:0.000}");
        Assert.Null(result.Card.Training.TrainingSetExploreAccuracy);
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
