using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using static TorchSharp.torch;

namespace CausalEval.Baseline;

/// <summary>
/// A trained network with its card: a checkpoint folder holds <c>model.bin</c> (TorchSharp weights) and
/// <c>model.json</c> (the card). Inference is serialised by a lock, so one instance serves concurrent trials
/// and gives the same answers at any concurrency.
/// </summary>
internal sealed class TorchPolicy : ITorchCheckpoint
{
    private readonly object _gate = new();

    public TorchPolicy(PolicyNetwork network, ModelCard card)
    {
        Network = network;
        Card = card;
        Network.eval();
    }

    public PolicyNetwork Network { get; }

    public ModelCard Card { get; }

    public EncoderShape Shape => Network.Encoder;

    /// <summary>Loads a causal-DAG checkpoint folder, or the folder of a given <c>model.bin</c> or <c>model.json</c>.</summary>
    public static TorchPolicy Load(string path, string source)
    {
        var (card, weightsPath) = ReadCard(path, source);
        return Load(card, weightsPath);
    }

    /// <summary>
    /// The card of a checkpoint folder (or of the folder of a given <c>model.bin</c> or <c>model.json</c>) and its weights'
    /// path; bad input names the file and field.
    /// </summary>
    public static (ModelCard Card, string WeightsPath) ReadCard(string path, string source)
    {
        var folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(path) && !File.Exists(path))
        {
            throw new InputException(source, path, "no such checkpoint file or folder");
        }
        var cardPath = Path.Combine(folder, ModelCard.FileName);
        var weightsPath = Path.Combine(folder, ModelCard.WeightsFileName);
        if (!File.Exists(cardPath) || !File.Exists(weightsPath))
        {
            throw new InputException(source, folder, $"a checkpoint folder holds {ModelCard.WeightsFileName} and {ModelCard.FileName}");
        }
        var card = ModelCard.Parse(cardPath, File.ReadAllText(cardPath));
        if (card.Format != ModelCard.CurrentFormat)
        {
            throw new InputException(cardPath, "format", $"'{card.Format}' is not {ModelCard.CurrentFormat}");
        }
        return (card, weightsPath);
    }

    /// <summary>Loads saved weights into <paramref name="network"/>; weights that do not fit the card are bad input naming the file.</summary>
    internal static void LoadWeights(TorchSharp.torch.nn.Module network, string weightsPath)
    {
        try
        {
            network.load(weightsPath);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or EndOfStreamException)
        {
            network.Dispose();
            throw new InputException(weightsPath, "$", $"the weights do not fit the card's architecture ({ex.Message})");
        }
    }

    /// <summary>Writes <paramref name="network"/>'s weights as <c>model.bin</c> and the card (with their sha256) as <c>model.json</c>.</summary>
    internal static ModelCard Save(TorchSharp.torch.nn.Module network, string folder, ModelCard card)
    {
        Directory.CreateDirectory(folder);
        var weightsPath = Path.Combine(folder, ModelCard.WeightsFileName);
        network.save(weightsPath);
        card = card with { WeightsSha256 = Sha256(weightsPath) };
        File.WriteAllText(Path.Combine(folder, ModelCard.FileName), card.ToJson(), new UTF8Encoding(false));
        return card;
    }

    internal static TorchPolicy Load(ModelCard card, string weightsPath)
    {
        TorchRuntime.EnsureCpu();
        var network = PolicyNetwork.Create(card.Architecture.Encoder(), card.Architecture.Network(), 0); // weights loaded next
        LoadWeights(network, weightsPath);
        return new TorchPolicy(network, card);
    }

    /// <summary>Writes <c>model.bin</c> and <c>model.json</c> (with the weights' sha256) into <paramref name="folder"/>.</summary>
    public ModelCard Save(string folder, ModelCard card) => Save(Network, folder, card);

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Action logits and edge logits of the last token of an encoded sequence.</summary>
    public (float[] Actions, float[] Edges) Predict(float[] features, int tokens)
    {
        lock (_gate)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var input = tensor(features, [1, tokens, Shape.Features]);
            var (actions, edges) = Network.forward(input);
            return (actions[0, tokens - 1].data<float>().ToArray(), edges[0, tokens - 1].data<float>().ToArray());
        }
    }

    /// <summary>Encodes what <paramref name="view"/> shows and predicts its last decision.</summary>
    public (float[] Actions, float[] Edges) Predict(EpisodeView view)
    {
        var past = StepEncoder.PastSteps(view);
        var tokens = past.Count + 1;
        if (StepEncoder.Unsupported(Shape, view.Brief, tokens) is { } problem)
        {
            throw new NotSupportedException(problem);
        }
        var features = new float[tokens * Shape.Features];
        StepEncoder.Encode(Shape, view.Brief, view.Target, past, view.Phase, features);
        return Predict(features, tokens);
    }

    public IAgent NewAgent() => new TorchAgent(this);

    public void Dispose() => Network.Dispose();
}
