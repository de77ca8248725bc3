using System.Diagnostics;
using CausalEval.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace CausalEval.Baseline;

/// <summary>How to train. The defaults produce the committed <c>torch/default</c> checkpoint.</summary>
internal sealed record TrainingOptions
{
    public static readonly IReadOnlyList<string> DefaultTasks = ["explore-exploit", "explore-exploit-heldout-link", "explore-exploit-heldout-subset"];

    /// <summary>The odd-one-out recipe's defaults (<c>baseline train --family odd-one-out</c>): the committed <c>torch/ooo-*</c> checkpoints.</summary>
    public static readonly TrainingOptions OddOneOut = new()
    {
        Tasks = ["odd-one-out-confounded"],
        EpisodesPerTask = 1000,
        Steps = 400,
        BatchSize = 64,
        LearningRate = 3e-3,
        Network = new NetworkShape(2, 4, 32, 64),
    };

    public IReadOnlyList<string> Tasks { get; init; } = DefaultTasks;
    public int EpisodesPerTask { get; init; } = 6000;
    public int Steps { get; init; } = 2000;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 3e-3;
    public ulong Seed { get; init; }
    public DataCondition Data { get; init; } = DataCondition.Interventional;

    /// <summary>Odd-one-out recipes: which auxiliary explanation targets to train (off: none); ignored for causal-DAG ones.</summary>
    public ExplanationTargets Explanations { get; init; }

    /// <summary>
    /// libtorch intra-op threads while training (results are reproducible for a given count). One is the default: the
    /// matrices are tiny, and on a shared 2-core machine two OpenMP threads wait on each other (10× slower here).
    /// </summary>
    public int Threads { get; init; } = 1;

    public NetworkShape Network { get; init; } = NetworkShape.Default;
    public EncoderShape Encoder { get; init; } = EncoderShape.Default;
}

/// <summary>The auxiliary explanation loss of an odd-one-out recipe (<c>baseline train --explanations</c>).</summary>
internal enum ExplanationTargets
{
    /// <summary>None: behavioural cloning alone.</summary>
    Off,

    /// <summary>At the token after each experiment pick, predicted from the context: the concept's dimension and whether that pick was correct.</summary>
    Context,

    /// <summary>
    /// <see cref="Context"/>, and at each experiment pick, predicted from the picked object's own hidden layer (shared with
    /// its action logits): whether the environment explains that pick as correct or incorrect.
    /// </summary>
    On,
}

/// <summary>One progress report of a training run.</summary>
/// <param name="ExploreAccuracy">Share of the batch's explore labels the network gets right; null when the data has none (the control).</param>
internal sealed record TrainingProgress(int Step, int Steps, double Loss, double? ExploreAccuracy, double? ExploitAccuracy, TimeSpan Elapsed);

/// <summary>What a training run returns: the network and its card without test scores yet.</summary>
internal sealed record TrainingResult(PolicyNetwork Network, ModelCard Card);

/// <summary>
/// Behavioural cloning: maximise the likelihood of the expert's explore and exploit actions (and its structure answer)
/// given everything the expert had seen at each decision. Seeded and deterministic on CPU: weights from
/// <c>torch.manual_seed(seed)</c>, minibatches in a fixed order from the same seed, a fixed thread count.
/// </summary>
internal static class Trainer
{
    private const int WarmupSteps = 100;

    /// <summary>libtorch on the CPU with a fixed intra-op thread count: what makes a training reproducible.</summary>
    internal static void StartTorch(int threads)
    {
        TorchRuntime.EnsureCpu();
        torch.set_num_threads(threads);
    }

    public static TrainingResult Train(DemonstrationSet data, TrainingOptions options, string command, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        StartTorch(options.Threads);
        var watch = Stopwatch.StartNew();

        var network = PolicyNetwork.Create(data.Shape, options.Network, options.Seed);
        network.train();
        var shape = data.Shape;
        var edgeWidth = shape.MaxVariables * shape.MaxVariables;
        using var features = tensor(data.Features, [data.Episodes, data.Tokens, shape.Features]);
        using var actions = tensor(data.Actions, [data.Episodes, data.Tokens]);
        using var kinds = tensor(data.Kinds, [data.Episodes, data.Tokens]);
        using var edgeTargets = tensor(data.EdgeTargets, [data.Episodes, data.Tokens, edgeWidth]);
        using var edgeMask = tensor(data.EdgeMask, [data.Episodes, data.Tokens, edgeWidth]);
        using var optimizer = optim.AdamW(network.parameters(), options.LearningRate, weight_decay: 0.01);

        var order = new Batches(data.Episodes, Math.Min(options.BatchSize, data.Episodes), options.Seed);
        var reportEvery = Math.Max(1, options.Steps / 10);
        double loss = 0;
        double? exploreAccuracy = null, exploitAccuracy = null;
        for (var step = 1; step <= options.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = LearningRate(options, step);
            }
            using var scope = NewDisposeScope();
            using var index = tensor(order.Next(), dtype: ScalarType.Int64);
            var x = features.index_select(0, index);
            var y = actions.index_select(0, index);
            var kind = kinds.index_select(0, index);
            var (actionLogits, edgeLogits) = network.forward(x);

            var perToken = nn.functional.cross_entropy(actionLogits.reshape(-1, shape.Classes), y.reshape(-1), reduction: nn.Reduction.None)
                .reshape(y.shape);
            var explore = kind.eq((byte)LabelKind.Explore).to_type(ScalarType.Float32);
            var exploit = kind.eq((byte)LabelKind.Exploit).to_type(ScalarType.Float32);
            var total = MaskedMean(perToken, explore) + MaskedMean(perToken, exploit);
            var mask = edgeMask.index_select(0, index);
            if (mask.sum().item<float>() > 0)
            {
                var edgeLoss = nn.functional.binary_cross_entropy_with_logits(edgeLogits, edgeTargets.index_select(0, index), reduction: nn.Reduction.None);
                total += MaskedMean(edgeLoss, mask);
            }

            Step(optimizer, network, total);

            if (step % reportEvery == 0 || step == options.Steps)
            {
                using var noGrad = no_grad();
                var correct = actionLogits.argmax(-1).eq(y).to_type(ScalarType.Float32);
                loss = total.item<float>();
                exploreAccuracy = Accuracy(correct, explore);
                exploitAccuracy = Accuracy(correct, exploit);
                progress?.Report(new TrainingProgress(step, options.Steps, loss, exploreAccuracy, exploitAccuracy, watch.Elapsed));
            }
        }
        network.eval();
        watch.Stop();
        var (trainExplore, trainExploit) = TrainingSetAccuracy(network, features, actions, kinds);

        var card = new ModelCard
        {
            Architecture = CardArchitecture.From(network),
            Data = new CardData
            {
                Condition = options.Data,
                Sources = data.Sources,
                Episodes = data.Episodes,
                Tokens = data.Tokens,
                Labels = options.Data == DataCondition.Interventional
                    ? "the expert's next action (variable x value class) at every explore and exploit token; its edge list at the structure token"
                    : "the expert's exploit action at the exploit token only (the trajectory shows no experiments to imitate): on passive-exploit tasks the one it "
                      + "chose from the shown samples (on observational evidence, the regression of the target on each variable); on explore-exploit worlds the one it chose after its own experiments",
            },
            Training = new CardTraining
            {
                Seed = options.Seed,
                Steps = options.Steps,
                BatchSize = options.BatchSize,
                LearningRate = options.LearningRate,
                Threads = options.Threads,
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 1),
                FinalLoss = Math.Round(loss, 4),
                FinalExploreAccuracy = exploreAccuracy is { } e ? Math.Round(e, 4) : null,
                FinalExploitAccuracy = exploitAccuracy is { } a ? Math.Round(a, 4) : null,
                TrainingSetExploreAccuracy = trainExplore is { } te ? Math.Round(te, 4) : null,
                TrainingSetExploitAccuracy = trainExploit is { } ta ? Math.Round(ta, 4) : null,
                Command = command,
            },
        };
        return new TrainingResult(network, card);
    }

    /// <summary>
    /// How well the trained network fits its own data: the share of all explore and exploit labels of the training set
    /// its most likely action matches (null when there are none). Whether a network learned at all shows here.
    /// </summary>
    private static (double? Explore, double? Exploit) TrainingSetAccuracy(PolicyNetwork network, Tensor features, Tensor actions, Tensor kinds)
    {
        using var noGrad = no_grad();
        var episodes = features.shape[0];
        double exploreRight = 0, exploreAll = 0, exploitRight = 0, exploitAll = 0;
        for (long start = 0; start < episodes; start += 512)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(512, episodes - start);
            var (logits, _) = network.forward(features.narrow(0, start, length));
            var correct = logits.argmax(-1).eq(actions.narrow(0, start, length)).to_type(ScalarType.Float32);
            var kind = kinds.narrow(0, start, length);
            var explore = kind.eq((byte)LabelKind.Explore).to_type(ScalarType.Float32);
            var exploit = kind.eq((byte)LabelKind.Exploit).to_type(ScalarType.Float32);
            exploreRight += (correct * explore).sum().item<float>();
            exploreAll += explore.sum().item<float>();
            exploitRight += (correct * exploit).sum().item<float>();
            exploitAll += exploit.sum().item<float>();
        }
        return (exploreAll > 0 ? exploreRight / exploreAll : null, exploitAll > 0 ? exploitRight / exploitAll : null);
    }

    /// <summary>One optimiser step on <paramref name="loss"/>, the gradient norm clipped at 1 (both families' recipe).</summary>
    internal static void Step(optim.Optimizer optimizer, nn.Module network, Tensor loss)
    {
        optimizer.zero_grad();
        loss.backward();
        nn.utils.clip_grad_norm_(network.parameters(), 1.0);
        optimizer.step();
    }

    /// <summary>Linear warm-up, then cosine decay to a tenth.</summary>
    internal static double LearningRate(TrainingOptions options, int step)
    {
        var warmup = Math.Min(WarmupSteps, Math.Max(1, options.Steps / 10));
        if (step <= warmup)
        {
            return options.LearningRate * step / warmup;
        }
        var progress = (double)(step - warmup) / Math.Max(1, options.Steps - warmup);
        return options.LearningRate * (0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    internal static double? Accuracy(Tensor correct, Tensor mask)
        => mask.sum().item<float>() > 0 ? MaskedMean(correct, mask).item<float>() : null;

    internal static Tensor MaskedMean(Tensor values, Tensor mask) => (values * mask).sum() / mask.sum().clamp_min(1);

    /// <summary>Minibatches of a seeded reshuffle of the episodes each epoch (xoshiro256**, not libtorch's generator).</summary>
    internal sealed class Batches(int episodes, int batchSize, ulong seed)
    {
        private readonly SeededRandom _random = new(SplitMix64.Derive(seed, 0xBA7C4));
        private readonly long[] _order = [.. Enumerable.Range(0, episodes).Select(i => (long)i)];
        private int _next = episodes;

        public long[] Next()
        {
            if (_next + batchSize > _order.Length)
            {
                _random.Shuffle(_order.AsSpan());
                _next = 0;
            }
            var batch = _order.AsSpan(_next, batchSize).ToArray();
            _next += batchSize;
            return batch;
        }
    }
}
