using CausalEval.Core.OddOneOut;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CausalEval.Baseline;

/// <summary>
/// The odd-one-out policy: the DAG baseline's causal Transformer blocks over decision tokens, then two heads on every
/// token. The action head scores each object from the token's context and the object's own descriptors (identity
/// one-hot and its unique-along-dimension flags) through one small MLP shared by the objects, giving per object the
/// logits of its four slots (transform along each dimension, pick). Two explanation heads predict what the
/// environment's explanations say: from the context, the concept's dimension (3 logits) and whether the last pick was
/// correct (2 logits); from each object's hidden layer (the one its action logits are read from), whether picking it
/// would be explained as correct (1 logit per object). Only the explanations recipes train them; the other leaves
/// them untrained.
/// </summary>
internal sealed class OddPolicyNetwork : Module<Tensor, (Tensor Actions, Tensor Explanations)>
{
    /// <summary>Concept dimension (3) and last pick correct / incorrect (2), from the context.</summary>
    public const int ContextExplanations = 5;

    /// <summary>The context's explanation logits, then one per object: picking it is explained as correct.</summary>
    public const int ExplanationOutputs = ContextExplanations + OddEncoderShape.Objects;
    private const int Descriptors = OddEncoderShape.Objects + 3;

    private readonly Linear input;
    private readonly Embedding position;
    private readonly ModuleList<PolicyNetwork.Block> blocks;
    private readonly LayerNorm norm;
    private readonly Linear objectHidden;
    private readonly Linear objectSlots;
    private readonly Linear explanations;
    private readonly Linear pickExplanation;

    /// <summary>A network with initial weights drawn after <c>torch.manual_seed(seed)</c> (serialised, as for <see cref="PolicyNetwork"/>).</summary>
    public static OddPolicyNetwork Create(OddEncoderShape encoder, NetworkShape network, ulong seed)
    {
        lock (PolicyNetwork.InitialWeights)
        {
            manual_seed((long)(seed & long.MaxValue));
            return new OddPolicyNetwork(encoder, network);
        }
    }

    private OddPolicyNetwork(OddEncoderShape encoder, NetworkShape network) : base(nameof(OddPolicyNetwork))
    {
        Encoder = encoder;
        Network = network;
        input = Linear(encoder.Features, network.Width);
        position = Embedding(encoder.MaxTokens, network.Width);
        blocks = new ModuleList<PolicyNetwork.Block>([.. Enumerable.Range(0, network.Layers).Select(_ => new PolicyNetwork.Block(network))]);
        norm = LayerNorm(network.Width);
        objectHidden = Linear(network.Width + Descriptors, network.HiddenWidth);
        objectSlots = Linear(network.HiddenWidth, OddEncoderShape.Slots);
        explanations = Linear(network.Width, ContextExplanations);
        // Made last, so the other layers' initial weights are those of a network without it.
        pickExplanation = Linear(network.HiddenWidth, 1);
        RegisterComponents();
    }

    public OddEncoderShape Encoder { get; }

    public NetworkShape Network { get; }

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <param name="tokens">[batch, tokens, features]</param>
    /// <returns>[batch, tokens, 16] action logits and [batch, tokens, 9] explanation logits (concept dimension, last pick correct / incorrect,
    /// then per object: picking it is correct).</returns>
    public override (Tensor Actions, Tensor Explanations) forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = (tokens.shape[0], tokens.shape[1]);
        var x = input.forward(tokens) + position.forward(arange(length, dtype: ScalarType.Int64));
        foreach (var block in blocks)
        {
            x = block.forward(x);
        }
        x = norm.forward(x);
        var objects = OddEncoderShape.Objects;
        var identity = eye(objects).expand(batch, length, objects, objects);
        var unique = tokens.narrow(2, Encoder.Unique, objects * Dimensions.All.Length).view(batch, length, objects, Dimensions.All.Length);
        var context = x.unsqueeze(2).expand(batch, length, objects, Network.Width);
        var perObject = cat([context, identity, unique], dim: -1);                           // [batch, tokens, objects, width + descriptors]
        var hidden = functional.gelu(objectHidden.forward(perObject));
        var slots = objectSlots.forward(hidden);                                              // [batch, tokens, objects, slots]
        var actions = slots.reshape(batch, length, OddEncoderShape.Classes);
        var explained = cat([explanations.forward(x), pickExplanation.forward(hidden).squeeze(-1)], dim: -1);
        return (actions.MoveToOuterDisposeScope(), explained.MoveToOuterDisposeScope());
    }
}
