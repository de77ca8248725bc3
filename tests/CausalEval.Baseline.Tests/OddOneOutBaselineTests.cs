using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tasks;

namespace CausalEval.Baseline.Tests;

public sealed class OddOneOutBaselineTests
{
    private static readonly TaskDefinition Confounded = new TaskCatalog(BaselineFixtures.Datasets).Load("odd-one-out-confounded");

    private static TrainingOptions Tiny(int steps, ulong seed = 0, ExplanationTargets explanations = ExplanationTargets.On) => TrainingOptions.OddOneOut with
    {
        EpisodesPerTask = 40,
        Steps = steps,
        BatchSize = 16,
        Seed = seed,
        Explanations = explanations,
        Network = new NetworkShape(1, 2, 16, 32),
    };

    private static OddTrainingResult Train(TrainingOptions options)
        => OddTrainer.Train(OddDemonstrations.Build(Confounded, options.EpisodesPerTask, OddEncoderShape.Default), options, "test");

    /// <summary>A hand-made episode: concept texture; trial 0's objects are red solid cubes, whose transforms give blue, grid, star.</summary>
    private static OddOneOutEpisode HandMade()
    {
        static ExperimentTrial Trial(string colour, string texture, string shape, string[] transforms)
            => new([.. OddOneOutEpisode.ObjectNames.Select(n => new OddObject(n, colour, texture, shape))], [.. transforms]);
        ImmutableArray<OddObject> exploit =
        [
            new("A", "red", "solid", "cube"),
            new("B", "blue", "solid", "cube"),
            new("C", "red", "grid", "cube"),
            new("D", "red", "solid", "star"),
        ];
        return new OddOneOutEpisode("hand-0", 1, Dimension.Texture,
            [Trial("red", "solid", "cube", ["blue", "grid", "star"]), Trial("green", "checker", "torus", ["pink", "noise", "heart"]),
             Trial("white", "noise", "cone", ["black", "solid", "prism"])], exploit);
    }

    [Fact]
    public void The_token_after_the_first_experiment_reads_as_worked_by_hand()
    {
        var shape = OddEncoderShape.Default;
        var steps = OddDemonstrations.Play(HandMade()).Steps;
        var features = new float[steps.Length * shape.Features];
        OddEncoder.Encode(shape, steps, OddEncoder.Decisions(steps, null), features);

        // Token 1: the pick of trial 0, after the expert transformed A along colour (A is now blue: unique along colour only).
        var token1 = features.AsSpan(shape.Features, shape.Features).ToArray();
        var expected1 = new float[shape.Features];
        expected1[OddEncoderShape.PreviousKind + 0] = 1;       // a transform
        expected1[OddEncoderShape.PreviousObject + 0] = 1;     // of A
        expected1[OddEncoderShape.PreviousDimension + 0] = 1;  // along colour
        expected1[OddEncoderShape.Stage + 1] = 1;              // an experiment pick
        expected1[OddEncoderShape.Trial + 0] = 1;              // in trial 0
        expected1[shape.Unique + 0 * 3 + 0] = 1;               // A unique along colour
        Assert.Equal(expected1, token1);

        // Token 2: the transform of trial 1, after picking A, which was incorrect (the concept is texture, A differs in colour).
        var token2 = features.AsSpan(2 * shape.Features, shape.Features).ToArray();
        var expected2 = new float[shape.Features];
        expected2[OddEncoderShape.PreviousKind + 1] = 1;
        expected2[OddEncoderShape.PreviousObject + 0] = 1;
        expected2[OddEncoderShape.PreviousOutcome + 1] = 1;    // incorrect
        expected2[OddEncoderShape.Stage + 0] = 1;              // a transform
        expected2[OddEncoderShape.Trial + 1] = 1;
        Assert.Equal(expected2, token2);

        // Token 6: the exploit pick, after trial 2's pick (A along shape: incorrect); B, C, D each unique along one dimension, A along none.
        var token6 = features.AsSpan(6 * shape.Features, shape.Features).ToArray();
        Assert.Equal(1, token6[OddEncoderShape.Stage + 2]);
        Assert.Equal(1, token6[OddEncoderShape.Trial + 3]);
        Assert.Equal(1, token6[OddEncoderShape.PreviousOutcome + 1]);
        Assert.Equal([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1], token6.AsSpan(shape.Unique, 12).ToArray());
    }

    [Fact]
    public async Task A_token_reads_the_same_when_it_is_current_as_when_it_is_past()
    {
        var shape = OddEncoderShape.Default;
        var episode = OddOneOutGenerator.GenerateEpisode(Confounded, TaskDefinition.TestSplit, 3);
        var recorder = new RecordingAgent(BuiltinAgents.All["random"].Create(new TrialContext("t", episode, 1, 11, null)), shape);
        var transcript = await OddOneOutEngine.RunAsync(episode, recorder);

        var whole = new float[transcript.Steps.Length * shape.Features];
        OddEncoder.Encode(shape, transcript.Steps, OddEncoder.Decisions(transcript.Steps, null), whole);

        Assert.Equal(transcript.Steps.Length, recorder.Seen.Count);
        for (var j = 0; j < recorder.Seen.Count; j++)
        {
            Assert.Equal(whole.AsSpan(0, (j + 1) * shape.Features).ToArray(), recorder.Seen[j]);
        }
    }

    [Fact]
    public void The_explanation_labels_say_what_the_environments_explanation_says()
    {
        var set = OddDemonstrations.Build(Confounded, 30, OddEncoderShape.Default);
        var labelled = 0;
        for (var i = 0; i < set.Episodes; i++)
        {
            var episode = OddOneOutGenerator.GenerateEpisode(Confounded, TaskDefinition.TrainSplit, i);
            var steps = OddDemonstrations.Play(episode).Steps;
            for (var j = 0; j < set.Tokens; j++)
            {
                var concept = set.Concepts[i * set.Tokens + j];
                if (steps[j] is { Phase: Phase.Explore, Decision.Move: { Kind: MoveKind.Pick } pick } own)
                {
                    var shown = own.Outcome!.Objects;
                    var index = OddObject.IndexOf(shown, pick.Object);
                    Assert.Equal(index, set.PickedObjects[i * set.Tokens + j]);
                    Assert.Equal(OddOneOutExplanations.AfterPick(shown, index, episode.Concept).StartsWith("Correct:", StringComparison.Ordinal) ? 1 : 0,
                        set.PickCorrect[i * set.Tokens + j]);
                }
                else
                {
                    Assert.Equal(DemonstrationSet.NoLabel, set.PickedObjects[i * set.Tokens + j]);
                }
                var previous = j > 0 ? steps[j - 1] : null;
                if (previous is not { Phase: Phase.Explore, Decision.Move.Kind: MoveKind.Pick })
                {
                    Assert.Equal(DemonstrationSet.NoLabel, concept);
                    continue;
                }
                var objects = previous.Outcome!.Objects;
                var said = OddOneOutExplanations.AfterPick(objects, OddObject.IndexOf(objects, previous.Decision.Move!.Value.Object), episode.Concept);
                Assert.Contains($"the concept is {Dimensions.All[(int)concept].Name()} ", said);
                Assert.Equal(said.StartsWith("Correct:", StringComparison.Ordinal) ? 0 : 1, set.Outcomes[i * set.Tokens + j]);
                labelled++;
            }
        }
        Assert.Equal(30 * 3, labelled); // one explanation per experiment trial
        Assert.All(Enumerable.Range(0, set.Episodes), i => Assert.Equal(OddEncoderShape.PickSlot, OddEncoderShape.Decode((int)set.Actions[i * set.Tokens + 6]).Slot));
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_or_recipe_other_weights()
    {
        using var temp = new TempDirectory();

        string Weights(ulong seed, ExplanationTargets explanations, string name)
        {
            var result = Train(Tiny(steps: 8, seed, explanations));
            using var policy = new OddPolicy(result.Network, result.Card);
            return policy.Save(Path.Combine(temp.Path, name), result.Card).WeightsSha256!;
        }

        var first = Weights(5, ExplanationTargets.On, "a");
        Assert.Equal(first, Weights(5, ExplanationTargets.On, "b"));
        Assert.NotEqual(first, Weights(6, ExplanationTargets.On, "c"));
        Assert.NotEqual(first, Weights(5, ExplanationTargets.Context, "d"));
        Assert.NotEqual(first, Weights(5, ExplanationTargets.Off, "e"));
    }

    [Fact]
    public async Task A_saved_checkpoint_loads_back_plays_odd_one_out_only_and_answers_the_same()
    {
        using var temp = new TempDirectory();
        var result = Train(Tiny(steps: 20));
        using var trained = new OddPolicy(result.Network, result.Card);
        trained.Save(temp.Path, result.Card);
        using var loaded = TorchCheckpoint.Load(temp.Path, "test");

        Assert.IsType<OddPolicy>(loaded);
        Assert.Equal(TaskDefinition.OddOneOutFamily, loaded.Card.Family);
        Assert.Equal(ExplanationTargets.On, loaded.Card.Training.Explanations);
        var provider = new TorchModelProvider();
        Assert.True(provider.Plays(temp.Path, TaskDefinition.OddOneOutFamily));
        Assert.False(provider.Plays(temp.Path, TaskDefinition.ExploreExploitFamily));
        Assert.False(provider.Plays(BaselineFixtures.DefaultCheckpoint, TaskDefinition.OddOneOutFamily));
        foreach (var episode in OddOneOutGenerator.Generate(Confounded, TaskDefinition.ValidationSplit, 5))
        {
            var a = await OddOneOutEngine.RunAsync(episode, trained.NewAgent());
            var b = await OddOneOutEngine.RunAsync(episode, loaded.NewAgent());
            Assert.Equal(a.Steps.Select(s => s.Decision.Move), b.Steps.Select(s => s.Decision.Move));
        }
    }

    [Theory]
    [InlineData("ooo-explanations", "context")]
    [InlineData("ooo-no-explanations", "off")]
    public async Task A_committed_odd_one_out_checkpoint_is_the_seed_best_on_validation_and_scores_its_cards_validation_figure(string name, string targets)
    {
        var explanations = Enum.Parse<ExplanationTargets>(targets, ignoreCase: true);
        var folder = Path.Combine(BaselineFixtures.RepoRoot, "models", "torch", name);
        var weights = new FileInfo(Path.Combine(folder, ModelCard.WeightsFileName));
        using var policy = TorchCheckpoint.Load(folder, "test");
        var card = policy.Card;

        Assert.IsType<OddPolicy>(policy);
        Assert.InRange(weights.Length, 1, 512 * 1024);
        Assert.Equal(TorchPolicy.Sha256(weights.FullName), card.WeightsSha256);
        Assert.Equal(TaskDefinition.OddOneOutFamily, card.Family);
        Assert.Equal(explanations, card.Training.Explanations);
        var source = Assert.Single(card.Data.Sources);
        Assert.Equal(("odd-one-out-confounded", "train", 1000), (source.Task, source.Split, source.Episodes));
        // The recipe is the committed default but for the explanation loss (what the comparison needs).
        var recipe = TrainingOptions.OddOneOut;
        Assert.Equal((recipe.Steps, recipe.BatchSize, recipe.LearningRate, recipe.Network.Width, recipe.Network.Layers),
            (card.Training.Steps, card.Training.BatchSize, card.Training.LearningRate, card.Architecture.Width, card.Architecture.Layers));
        // At least five seeds, each scored on validation and test; the checkpoint is the seed best on validation only.
        Assert.True(card.SeedStudy.Count >= 5, $"{card.SeedStudy.Count} seeds");
        Assert.All(card.SeedStudy, s =>
        {
            Assert.Equal(SeedSelection.Score(s.ValidationScores, ["odd-one-out-confounded"]), s.SelectionScore);
            Assert.Equal(3, s.TestScores.Count);
            Assert.Equal(1.0, s.FinalExploitAccuracy); // every seed imitates the confounded exploit picks perfectly
        });
        var best = card.SeedStudy.OrderByDescending(s => s.SelectionScore).ThenBy(s => s.Seed).First();
        Assert.Equal(best.Seed, card.Training.Seed);
        Assert.Equal(best.TestScores, card.TestScores);

        var catalog = new TaskCatalog(BaselineFixtures.Datasets);
        var now = await Evaluation.RunAsync(policy, catalog, ["odd-one-out-confounded"], split: TaskDefinition.ValidationSplit);

        Assert.Equal(card.ValidationScores.Single(s => s.Task == "odd-one-out-confounded"), Assert.Single(now.Scores));
    }

    /// <summary>Records, at each decision, the tokens the torch agent would encode from its view.</summary>
    private sealed class RecordingAgent(IAgent inner, OddEncoderShape shape) : IAgent
    {
        public List<float[]> Seen { get; } = [];

        public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
        {
            var decisions = OddEncoder.Decisions(view.History, view.OddOneOut);
            var features = new float[decisions.Count * shape.Features];
            OddEncoder.Encode(shape, view.History, decisions, features);
            Seen.Add(features);
            return inner.DecideAsync(view, cancellationToken);
        }
    }
}

