using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CausalEval.Baseline;

/// <summary>Size of the causal Transformer.</summary>
internal sealed record NetworkShape(int Layers, int Heads, int Width, int HiddenWidth)
{
    public static readonly NetworkShape Default = new(2, 4, 64, 128);
}

/// <summary>
/// A small decoder-only (causal) Transformer over decision tokens: input projection plus learned positions,
/// pre-norm blocks of masked multi-head self-attention and an MLP, then two heads read every token — action logits
/// (variable slot × value slot) and edge logits (variable slot × variable slot, for the structure question).
/// The action head scores every variable with one shared bilinear form: the context vector h of the token gives,
/// per value slot, a weight for each of the variable's own descriptors — its identity (one-hot), whether it is cued,
/// whether it is the target, whether it exists — so <c>logit(v, s) = Σ_p (W_s h)_p · d_v,p</c>. The identity part alone
/// is an ordinary linear head; the shared flag weights let a rule learned about "cued" variables on the training
/// subsets apply to subsets never seen in training.
/// </summary>
internal sealed class PolicyNetwork : Module<Tensor, (Tensor Actions, Tensor Edges)>
{
    private readonly Linear input;
    private readonly Embedding position;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm norm;
    private readonly Linear actions;
    private readonly Linear edges;

    // Initial weights come from libtorch's process-wide generator: seeding it and drawing from it must not interleave
    // with another thread building a network (of either family), or the same seed would give different weights.
    internal static readonly Lock InitialWeights = new();

    /// <summary>A network with initial weights drawn after <c>torch.manual_seed(seed)</c>.</summary>
    public static PolicyNetwork Create(EncoderShape encoder, NetworkShape network, ulong seed)
    {
        lock (InitialWeights)
        {
            manual_seed((long)(seed & long.MaxValue));
            return new PolicyNetwork(encoder, network);
        }
    }

    private PolicyNetwork(EncoderShape encoder, NetworkShape network) : base(nameof(PolicyNetwork))
    {
        Encoder = encoder;
        Network = network;
        input = Linear(encoder.Features, network.Width);
        position = Embedding(encoder.MaxTokens, network.Width);
        blocks = new ModuleList<Block>([.. Enumerable.Range(0, network.Layers).Select(_ => new Block(network))]);
        norm = LayerNorm(network.Width);
        actions = Linear(network.Width, encoder.MaxValues * Descriptors(encoder));
        edges = Linear(network.Width, encoder.MaxVariables * encoder.MaxVariables);
        RegisterComponents();
    }

    public EncoderShape Encoder { get; }

    public NetworkShape Network { get; }

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <param name="tokens">[batch, tokens, features]</param>
    /// <returns>[batch, tokens, classes] action logits and [batch, tokens, variables²] edge logits.</returns>
    public override (Tensor Actions, Tensor Edges) forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var length = tokens.shape[1];
        var x = input.forward(tokens) + position.forward(arange(length, dtype: ScalarType.Int64));
        foreach (var block in blocks)
        {
            x = block.forward(x);
        }
        x = norm.forward(x);
        var a = ActionLogits(tokens, actions.forward(x));
        var e = edges.forward(x);
        return (a.MoveToOuterDisposeScope(), e.MoveToOuterDisposeScope());
    }

    /// <summary>Per variable: identity one-hot, then the cued, goal and exists flags.</summary>
    private static int Descriptors(EncoderShape encoder) => encoder.MaxVariables + 3;

    private Tensor ActionLogits(Tensor tokens, Tensor weights)
    {
        var (batch, length) = (tokens.shape[0], tokens.shape[1]);
        var variables = Encoder.MaxVariables;
        var flags = stack([
            tokens.narrow(2, Encoder.Cued, variables),
            tokens.narrow(2, Encoder.Goal, variables),
            tokens.narrow(2, Encoder.Exists, variables)], dim: -1);
        var identity = eye(variables).expand(batch, length, variables, variables);
        var descriptors = cat([identity, flags], dim: -1);                                  // [batch, tokens, variables, descriptors]
        var perSlot = weights.view(batch, length, Encoder.MaxValues, Descriptors(Encoder)); // [batch, tokens, slots, descriptors]
        return descriptors.matmul(perSlot.transpose(-1, -2)).reshape(batch, length, Encoder.Classes);
    }

    /// <summary>One pre-norm block: causal multi-head self-attention, then an MLP (shared by the odd-one-out network).</summary>
    internal sealed class Block : Module<Tensor, Tensor>
    {
        private readonly LayerNorm norm1;
        private readonly Linear qkv;
        private readonly Linear project;
        private readonly LayerNorm norm2;
        private readonly Linear up;
        private readonly Linear down;
        private readonly int heads;

        public Block(NetworkShape shape) : base(nameof(Block))
        {
            heads = shape.Heads;
            norm1 = LayerNorm(shape.Width);
            qkv = Linear(shape.Width, 3 * shape.Width);
            project = Linear(shape.Width, shape.Width);
            norm2 = LayerNorm(shape.Width);
            up = Linear(shape.Width, shape.HiddenWidth);
            down = Linear(shape.HiddenWidth, shape.Width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2]);
            var headWidth = width / heads;
            // [3, batch, heads, tokens, head width]
            var parts = qkv.forward(norm1.forward(x)).view(batch, length, 3, heads, headWidth).permute(2, 0, 3, 1, 4);
            var (q, k, v) = (parts[0], parts[1], parts[2]);
            var scores = q.matmul(k.transpose(-2, -1)) * (1.0 / Math.Sqrt(headWidth));
            // Token j attends to tokens ≤ j only.
            var future = ones(length, length, dtype: ScalarType.Bool).triu(1);
            var attended = scores.masked_fill(future, double.NegativeInfinity).softmax(-1).matmul(v);
            x = x + project.forward(attended.transpose(1, 2).reshape(batch, length, width));
            return x + down.forward(functional.gelu(up.forward(norm2.forward(x))));
        }
    }
}
