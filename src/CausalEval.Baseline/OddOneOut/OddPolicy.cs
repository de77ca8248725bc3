using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using static TorchSharp.torch;

namespace CausalEval.Baseline;

/// <summary>
/// A trained odd-one-out network with its card (a checkpoint folder: <c>model.bin</c>, <c>model.json</c>). Inference is
/// serialised by a lock, so one instance serves concurrent trials with the same answers at any concurrency.
/// </summary>
internal sealed class OddPolicy : ITorchCheckpoint
{
    private readonly Lock _gate = new();

    public OddPolicy(OddPolicyNetwork network, ModelCard card)
    {
        Network = network;
        Card = card;
        Network.eval();
    }

    public OddPolicyNetwork Network { get; }

    public ModelCard Card { get; }

    public OddEncoderShape Shape => Network.Encoder;

    public static OddPolicy Load(ModelCard card, string weightsPath)
    {
        TorchRuntime.EnsureCpu();
        var architecture = card.Architecture;
        var network = OddPolicyNetwork.Create(new OddEncoderShape((architecture.MaxTokens - 1) / 2), architecture.Network(), 0); // weights loaded next
        TorchPolicy.LoadWeights(network, weightsPath);
        return new OddPolicy(network, card);
    }

    public ModelCard Save(string folder, ModelCard card) => TorchPolicy.Save(Network, folder, card);

    /// <summary>Action logits (object × slot) and explanation logits of the decision <paramref name="view"/> asks for.</summary>
    public (float[] Actions, float[] Explanations) Predict(EpisodeView view)
    {
        var trial = view.OddOneOut ?? throw new NotSupportedException("this checkpoint plays odd-one-out episodes only");
        var decisions = OddEncoder.Decisions(view.History, trial);
        if (OddEncoder.Unsupported(Shape, decisions.Count, trial.Objects.Length) is { } problem)
        {
            throw new NotSupportedException(problem);
        }
        var features = new float[decisions.Count * Shape.Features];
        OddEncoder.Encode(Shape, view.History, decisions, features);
        lock (_gate)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (actions, explanations) = Network.forward(tensor(features, [1, decisions.Count, Shape.Features]));
            return (actions[0, decisions.Count - 1].data<float>().ToArray(), explanations[0, decisions.Count - 1].data<float>().ToArray());
        }
    }

    public IAgent NewAgent() => new OddTorchAgent(this);

    public void Dispose() => Network.Dispose();
}

/// <summary>
/// Plays an odd-one-out episode with a trained policy: the most likely of all 16 moves (a transform asked at a pick, or
/// the reverse, reaches the engine, which records it as invalid: whatever the network learned is what scores).
/// </summary>
internal sealed class OddTorchAgent(OddPolicy policy) : IAgent
{
    public ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var (actions, _) = policy.Predict(view);
        var best = 0;
        for (var c = 1; c < actions.Length; c++)
        {
            if (actions[c] > actions[best])
            {
                best = c;
            }
        }
        var (obj, slot) = OddEncoderShape.Decode(best);
        var name = view.OddOneOut!.Objects[obj].Name;
        return new(AgentDecision.Act(slot == OddEncoderShape.PickSlot ? OddOneOutMove.PickOf(name) : OddOneOutMove.TransformOf(name, Dimensions.All[slot])));
    }
}
