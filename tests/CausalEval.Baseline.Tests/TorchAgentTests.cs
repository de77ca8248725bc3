using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Running;
using CausalEval.Core.Tasks;
using CausalEval.Core.Results;

namespace CausalEval.Baseline.Tests;

public sealed class TorchAgentTests
{
    [Fact]
    public async Task The_default_checkpoint_plays_committed_test_episodes_of_every_task_through_the_runner()
    {
        var catalog = new TaskCatalog(BaselineFixtures.Datasets);
        var tasks = catalog.DagTaskIds().Select(id => new TaskEpisodes(catalog.Load(id), [.. catalog.LoadTestSplit(id, 5)])).ToList();
        var models = new ModelCatalog([new TorchModelProvider()]);
        var modelId = "torch/" + BaselineFixtures.DefaultCheckpoint;
        var plan = new RunPlan { Tasks = [.. tasks.Select(t => t.Task)], Models = [modelId], Concurrency = 2 };
        var store = new ListStore();

        var outcome = await new Runner(models, TimeProvider.System).RunAsync(plan, tasks, store, new Leaderboard());

        Assert.Equal((25L, 25L, 0L), (outcome.Planned, outcome.Written, outcome.Errors));
        Assert.All(store.Records, r =>
        {
            Assert.Null(r.Error);
            Assert.NotNull(r.Scores);
            // A bad choice (e.g. the target) is the engine's to record, with its reason.
            Assert.All(r.Transcript!.Steps, s => Assert.True(s.Status == StepStatus.Valid || s.Error is not null));
        });
        Assert.All(store.Records.Where(r => r.Spec.TaskId.StartsWith("explore-exploit", StringComparison.Ordinal)),
            r => Assert.Equal(StepStatus.Valid, r.Transcript!.Exploit!.Status));
        // The structure question of explore-exploit gets an answer too.
        Assert.All(store.Records.Where(r => r.Spec.TaskId == "explore-exploit"), r => Assert.NotNull(r.Scores!.Value.StructureF1));
    }

    [Fact]
    public void The_committed_checkpoint_is_small_leak_free_and_the_seed_best_on_validation()
    {
        var weights = new FileInfo(Path.Combine(BaselineFixtures.DefaultCheckpoint, ModelCard.WeightsFileName));
        using var policy = TorchPolicy.Load(BaselineFixtures.DefaultCheckpoint, "test");
        var card = policy.Card;

        Assert.InRange(weights.Length, 1, 5 * 1024 * 1024);
        Assert.Equal(TorchPolicy.Sha256(weights.FullName), card.WeightsSha256);
        Assert.Equal(DataCondition.Interventional, card.Data.Condition);
        Assert.All(card.Data.Sources, s =>
        {
            Assert.Equal("train", s.Split);
            Assert.Equal<string>(["D->B"], s.ExcludedLinks);
            Assert.Equal<string>(["A,B,D", "A,D,E", "B,C,E"], s.ExcludedSubsets);
        });
        AssertTheSeedBestOnValidation(card);
    }

    /// <summary>
    /// At least five seeds of the one recipe, each scored on validation and test; the checkpoint is the seed whose
    /// validation score is best (its test scores played no part), and its card carries that seed's scores.
    /// </summary>
    private static void AssertTheSeedBestOnValidation(ModelCard card)
    {
        Assert.True(card.SeedStudy.Count >= 5, $"{card.SeedStudy.Count} seeds");
        Assert.All(card.SeedStudy, s =>
        {
            Assert.Equal(SeedSelection.Score(s.ValidationScores, card.Data.Condition), s.SelectionScore);
            Assert.Equal(5, s.TestScores.Count);
        });
        var best = card.SeedStudy.OrderByDescending(s => s.SelectionScore).ThenBy(s => s.Seed).First();
        Assert.Equal(best.Seed, card.Training.Seed);
        Assert.Equal(best.ValidationScores, card.ValidationScores);
        Assert.Equal(best.TestScores, card.TestScores);
    }

    [Fact]
    public void The_committed_observational_control_fits_its_own_data_and_saw_only_observational_samples()
    {
        using var policy = TorchPolicy.Load(Path.Combine(BaselineFixtures.RepoRoot, "models", "torch", "observational-control"), "test");
        var card = policy.Card;

        Assert.Equal(DataCondition.Observational, card.Data.Condition);
        var source = Assert.Single(card.Data.Sources);
        Assert.Equal(("passive-exploit-observational", "train"), (source.Task, source.Split));
        Assert.Equal<string>(["D->B"], source.ExcludedLinks);
        Assert.Null(card.Training.TrainingSetExploreAccuracy); // no experiments to imitate
        Assert.True(card.Training.TrainingSetExploitAccuracy >= 0.8, $"training-set exploit accuracy {card.Training.TrainingSetExploitAccuracy}"); // 8 actions: chance ≈ 0.125
        // Every seed of the recipe fits its data (not only the chosen one), and the choice among them was made on validation.
        Assert.All(card.SeedStudy, s => Assert.True(s.FinalExploitAccuracy >= 0.75, $"seed {s.Seed}: training-set exploit accuracy {s.FinalExploitAccuracy}"));
        AssertTheSeedBestOnValidation(card);
    }

    [Fact]
    public async Task The_cards_heldout_link_score_is_what_the_checkpoint_scores_now()
    {
        var catalog = new TaskCatalog(BaselineFixtures.Datasets);
        using var policy = TorchPolicy.Load(BaselineFixtures.DefaultCheckpoint, "test");

        var result = await Evaluation.RunAsync(policy, catalog, ["explore-exploit-heldout-link"]);

        Assert.Equal(policy.Card.TestScores.Single(s => s.Task == "explore-exploit-heldout-link"), Assert.Single(result.Scores));
        Assert.True(result.MillisecondsPerDecision > 0);
    }

    [Fact]
    public async Task Only_slots_that_name_no_action_are_left_out_so_a_bad_choice_reaches_the_engine()
    {
        var result = BaselineFixtures.Train(BaselineFixtures.Tiny(steps: 1));
        using var policy = new TorchPolicy(result.Network, result.Card);
        var view = BaselineFixtures.ExploitView();

        var decision = await new TorchAgent(policy).DecideAsync(view, CancellationToken.None);

        var (actions, _) = policy.Predict(view);
        var shape = policy.Shape;
        var best = Enumerable.Range(0, actions.Length)
            .Where(c => shape.Decode(c).Variable < view.Brief.Variables.Length && shape.Decode(c).ValueSlot < view.Brief.AllowedValues.Length)
            .MaxBy(c => actions[c]);
        Assert.Equal(view.Brief.Variables[shape.Decode(best).Variable], decision.Action!.Value.Variable);
        Assert.Equal(view.Brief.AllowedValues[shape.Decode(best).ValueSlot], decision.Action!.Value.Value);
    }

    [Fact]
    public void An_episode_larger_than_the_checkpoint_supports_is_refused_with_the_reason()
    {
        var shape = new EncoderShape(2, 2, 32);
        var brief = BaselineFixtures.ExploitView().Brief;

        Assert.Contains("at most 2", StepEncoder.Unsupported(shape, brief, 4));
        Assert.Contains("needs 4 steps of context; this checkpoint supports at most 3", StepEncoder.Unsupported(EncoderShape.Default with { MaxTokens = 3 }, brief, 4));
        Assert.Null(StepEncoder.Unsupported(EncoderShape.Default, brief, 4));
    }

    [Fact]
    public void Model_ids_name_a_checkpoint_folder_or_file_or_fail_as_bad_input()
    {
        var folder = BaselineFixtures.DefaultCheckpoint;

        Assert.Equal(folder, TorchModelProvider.Locate(folder, "torch/x"));
        Assert.Equal(Path.Combine(folder, ModelCard.WeightsFileName), TorchModelProvider.Locate(Path.Combine(folder, ModelCard.WeightsFileName), "torch/x"));
        var missing = Assert.Throws<InputException>(() => TorchModelProvider.Locate("no-such-checkpoint", "torch/no-such-checkpoint"));
        Assert.Contains("no checkpoint named 'no-such-checkpoint'", missing.Message);
        Assert.Throws<InputException>(() => TorchModelProvider.Locate("./nowhere/at/all", "torch/./nowhere/at/all"));
        using var temp = new TempDirectory();
        var notACheckpoint = Assert.Throws<InputException>(() => TorchPolicy.Load(temp.Path, "torch/x"));
        Assert.Contains("model.bin and model.json", notACheckpoint.Message);
    }

    private sealed class ListStore : IResultStore
    {
        public List<TrialRecord> Records { get; } = [];

        public ValueTask AppendAsync(TrialRecord record, CancellationToken cancellationToken)
        {
            Records.Add(record);
            return ValueTask.CompletedTask;
        }
    }
}
