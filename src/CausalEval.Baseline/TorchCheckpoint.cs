using CausalEval.Core.Agents;
using CausalEval.Core.Tasks;

namespace CausalEval.Baseline;

/// <summary>A loaded checkpoint of either family: its card, and a fresh agent per trial that plays with it.</summary>
internal interface ITorchCheckpoint : IDisposable
{
    ModelCard Card { get; }

    IAgent NewAgent();

    /// <summary>Writes <c>model.bin</c> and <c>model.json</c> (with the weights' sha256) into <paramref name="folder"/>.</summary>
    ModelCard Save(string folder, ModelCard card);
}

/// <summary>Loads a checkpoint folder as the network its card describes (causal-DAG or odd-one-out).</summary>
internal static class TorchCheckpoint
{
    /// <summary>The family a card's checkpoint plays: odd-one-out, or (no family on the card) the causal-DAG families.</summary>
    public static bool Plays(ModelCard card, string family) => card.Family == TaskDefinition.OddOneOutFamily
        ? family == TaskDefinition.OddOneOutFamily
        : TaskDefinition.IsDagFamily(family);

    public static ITorchCheckpoint Load(string path, string source)
    {
        var (card, weights) = TorchPolicy.ReadCard(path, source);
        return card.Architecture.Kind == OddTrainer.ArchitectureKind ? OddPolicy.Load(card, weights) : TorchPolicy.Load(card, weights);
    }
}
