using System.Diagnostics;
using CausalEval.Core.Tasks;
using static TorchSharp.torch;

namespace CausalEval.Baseline;

/// <summary>What an odd-one-out training run returns: the network and its card without validation or test scores yet.</summary>
internal sealed record OddTrainingResult(OddPolicyNetwork Network, ModelCard Card);

/// <summary>
/// Behavioural cloning on odd-one-out: maximise the likelihood of the expert's transforms and picks given what it had
/// seen at each decision; with <see cref="TrainingOptions.Explanations"/>, also the likelihood of each experiment pick's
/// explanation (<see cref="ExplanationTargets"/>) — the auxiliary loss of the explanations recipe. Seeded and deterministic on CPU like <see cref="Trainer"/> (its schedule, minibatch order and
/// thread setting).
/// </summary>
internal static class OddTrainer
{
    public const string ArchitectureKind = "odd-one-out-transformer";

    public static OddTrainingResult Train(OddDemonstrationSet data, TrainingOptions options, string command, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        Trainer.StartTorch(options.Threads);
        var watch = Stopwatch.StartNew();

        var network = OddPolicyNetwork.Create(data.Shape, options.Network, options.Seed);
        network.train();
        using var features = tensor(data.Features, [data.Episodes, data.Tokens, data.Shape.Features]);
        using var actions = tensor(data.Actions, [data.Episodes, data.Tokens]);
        using var concepts = tensor(data.Concepts, [data.Episodes, data.Tokens]);
        using var outcomes = tensor(data.Outcomes, [data.Episodes, data.Tokens]);
        using var picked = tensor(data.PickedObjects, [data.Episodes, data.Tokens]);
        using var pickCorrect = tensor(data.PickCorrect, [data.Episodes, data.Tokens]);
        using var exploitMask = ExploitMask(data);
        using var optimizer = optim.AdamW(network.parameters(), options.LearningRate, weight_decay: 0.01);

        var order = new Trainer.Batches(data.Episodes, Math.Min(options.BatchSize, data.Episodes), options.Seed);
        var reportEvery = Math.Max(1, options.Steps / 10);
        double loss = 0;
        double? experimentAccuracy = null, exploitAccuracy = null;
        for (var step = 1; step <= options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = Trainer.LearningRate(options, step);
            }
            using var scope = NewDisposeScope();
            using var index = tensor(order.Next(), dtype: ScalarType.Int64);
            var y = actions.index_select(0, index);
            var (actionLogits, explanationLogits) = network.forward(features.index_select(0, index));
            var exploit = exploitMask.index_select(0, index);
            var labelled = y.ne(DemonstrationSet.NoLabel).to_type(ScalarType.Float32);
            var experiment = labelled - exploit;
            var perToken = nn.functional.cross_entropy(actionLogits.reshape(-1, OddEncoderShape.Classes), y.reshape(-1), reduction: nn.Reduction.None)
                .reshape(y.shape);
            // As the DAG trainer: the experiment decisions and the exploit decision weigh the same, whatever their counts.
            var total = Trainer.MaskedMean(perToken, experiment) + Trainer.MaskedMean(perToken, exploit);
            if (options.Explanations != ExplanationTargets.Off)
            {
                total += ExplanationLoss(explanationLogits, concepts.index_select(0, index), outcomes.index_select(0, index));
            }
            if (options.Explanations == ExplanationTargets.On)
            {
                total += PickExplanationLoss(explanationLogits, picked.index_select(0, index), pickCorrect.index_select(0, index));
            }

            Trainer.Step(optimizer, network, total);

            if (step % reportEvery == 0 || step == options.Steps)
            {
                using var noGrad = no_grad();
                var correct = actionLogits.argmax(-1).eq(y).to_type(ScalarType.Float32);
                loss = total.item<float>();
                experimentAccuracy = Trainer.Accuracy(correct, experiment);
                exploitAccuracy = Trainer.Accuracy(correct, exploit);
                progress?.Report(new TrainingProgress(step, options.Steps, loss, experimentAccuracy, exploitAccuracy, watch.Elapsed));
            }
        }
        network.eval();
        watch.Stop();
        var fit = TrainingSetAccuracy(network, features, actions, exploitMask, concepts);

        var card = new ModelCard
        {
            Family = TaskDefinition.OddOneOutFamily,
            Architecture = new CardArchitecture
            {
                Kind = ArchitectureKind,
                Layers = options.Network.Layers,
                Heads = options.Network.Heads,
                Width = options.Network.Width,
                HiddenWidth = options.Network.HiddenWidth,
                MaxVariables = OddEncoderShape.Objects,
                MaxValues = OddEncoderShape.Slots,
                MaxTokens = data.Shape.MaxTokens,
                Features = data.Shape.Features,
                Parameters = network.ParameterCount,
                Tokens = "one token per decision: previous action (transform or pick, object one-hot, dimension one-hot), previous outcome (correct, incorrect, failed), "
                    + "stage (transform, experiment pick, exploit pick), trial one-hot, and at a pick each object's unique-along-dimension flags; learned positions",
                Outputs = "action logits (object x {transform colour, texture, shape, pick}) from one MLP per object over the context and the object's identity and flags; "
                    + "explanation logits (concept dimension, correct / incorrect) on every token",
            },
            Data = new CardData
            {
                Condition = DataCondition.Interventional,
                Sources = data.Sources,
                Episodes = data.Episodes,
                Tokens = data.Tokens,
                Labels = "the expert's next move (object x slot class) at every token"
                    + (options.Explanations != ExplanationTargets.Off ? "; at each token after an experiment pick, that pick's explanation: the concept's dimension and correct / incorrect" : "")
                    + (options.Explanations == ExplanationTargets.On ? "; at each experiment pick, for the picked object, correct / incorrect as the environment will explain it" : ""),
            },
            Training = new CardTraining
            {
                Seed = options.Seed,
                Steps = options.Steps,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                Threads = options.Threads,
                Explanations = options.Explanations,
                Loss = "mean cross-entropy on experiment tokens + on exploit tokens"
                    + (options.Explanations != ExplanationTargets.Off ? " + cross-entropy of the concept's dimension + of correct / incorrect at the tokens after experiment picks (from the context)" : "")
                    + (options.Explanations == ExplanationTargets.On ? " + binary cross-entropy of the picked object's correct / incorrect at experiment picks (from its hidden layer)" : ""),
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 1),
                FinalLoss = Math.Round(loss, 4),
                FinalExploreAccuracy = experimentAccuracy is { } e ? Math.Round(e, 4) : null,
                FinalExploitAccuracy = exploitAccuracy is { } a ? Math.Round(a, 4) : null,
                TrainingSetExploreAccuracy = Math.Round(fit.Experiment, 4),
                TrainingSetExploitAccuracy = Math.Round(fit.Exploit, 4),
                TrainingSetConceptAccuracy = Math.Round(fit.Concept, 4),
                Command = command,
            },
        };
        return new OddTrainingResult(network, card);
    }

    /// <summary>1 at each episode's exploit token (its last), 0 elsewhere.</summary>
    private static Tensor ExploitMask(OddDemonstrationSet data)
    {
        var mask = new float[data.Episodes * data.Tokens];
        for (var i = 0; i < data.Episodes; i++)
        {
            mask[i * data.Tokens + data.Tokens - 1] = 1;
        }
        return tensor(mask, [data.Episodes, data.Tokens]);
    }

    private static Tensor ExplanationLoss(Tensor logits, Tensor concepts, Tensor outcomes)
    {
        var dimensions = Core.OddOneOut.Dimensions.All.Length;
        var concept = nn.functional.cross_entropy(logits.narrow(-1, 0, dimensions).reshape(-1, dimensions), concepts.reshape(-1));
        var outcome = nn.functional.cross_entropy(logits.narrow(-1, dimensions, 2).reshape(-1, 2), outcomes.reshape(-1));
        return concept + outcome;
    }

    /// <summary>The picked object's "picking it is correct" logit against the environment's explanation of the pick, at experiment picks.</summary>
    private static Tensor PickExplanationLoss(Tensor logits, Tensor picked, Tensor correct)
    {
        var mask = picked.ne(DemonstrationSet.NoLabel).to_type(ScalarType.Float32);
        var perObject = logits.narrow(-1, OddPolicyNetwork.ContextExplanations, OddEncoderShape.Objects);
        var chosen = perObject.gather(-1, picked.clamp_min(0).unsqueeze(-1)).squeeze(-1);
        var loss = nn.functional.binary_cross_entropy_with_logits(chosen, correct, reduction: nn.Reduction.None);
        return Trainer.MaskedMean(loss, mask);
    }

    /// <summary>How well the trained network fits its own data: experiment moves, exploit picks, and the explanation head's concept.</summary>
    private static (double Experiment, double Exploit, double Concept) TrainingSetAccuracy(OddPolicyNetwork network, Tensor features, Tensor actions, Tensor exploitMask,
        Tensor concepts)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (logits, explanations) = network.forward(features);
        var correct = logits.argmax(-1).eq(actions).to_type(ScalarType.Float32);
        var experiment = actions.ne(DemonstrationSet.NoLabel).to_type(ScalarType.Float32) - exploitMask;
        var explained = concepts.ne(DemonstrationSet.NoLabel).to_type(ScalarType.Float32);
        var conceptRight = explanations.narrow(-1, 0, Core.OddOneOut.Dimensions.All.Length).argmax(-1).eq(concepts).to_type(ScalarType.Float32);
        return (Trainer.Accuracy(correct, experiment) ?? 0, Trainer.Accuracy(correct, exploitMask) ?? 0, Trainer.Accuracy(conceptRight, explained) ?? 0);
    }
}
