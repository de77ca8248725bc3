using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Episodes;

public class AgentDecisionTests
{
    /// <summary>A decision with every property set to something other than its default.</summary>
    private static AgentDecision Full() => new()
    {
        Action = new Intervention("A", 5),
        Move = new OddOneOutMove(MoveKind.Pick, "B"),
        LenientMove = new OddOneOutMove(MoveKind.Pick, "C"),
        Edges = [new DirectedLink("A", "B")],
        ParseError = "strict reading failed",
        RawAnswer = "ACTION: A = 5",
        Rationale = "because",
        Usage = new Usage(10, 2),
        LenientAction = new Intervention("B", -5),
        LenientEdges = [new DirectedLink("B", "A")],
        Messages = [new PromptMessage("user", "go")],
        Latency = TimeSpan.FromMilliseconds(12),
        Cached = true,
        Retries = 2,
        RetryReasons = ["429", "timeout"],
    };

    private static readonly System.Reflection.PropertyInfo[] Properties = typeof(AgentDecision).GetProperties()
        .Where(p => p.GetMethod is { IsPublic: true, IsStatic: false } && p.Name != "EqualityContract").ToArray();

    [Fact]
    public void Full_SetsEveryProperty_SoTheTestsBelowCoverThemAll()
    {
        var plain = new AgentDecision();
        var full = Full();

        Assert.Equal(15, Properties.Length);
        Assert.All(Properties, p => Assert.False(Equals(p.GetValue(plain), p.GetValue(full)), $"{p.Name} is not set by Full()"));
    }

    [Fact]
    public void With_CopiesEveryProperty_AndChangingTheCopyLeavesTheOriginal()
    {
        var original = Full();

        var copy = original with { };
        var changed = original with { RawAnswer = "other", Usage = new Usage(1, 1), Retries = 0, Action = null };

        Assert.All(Properties, p => Assert.Equal(p.GetValue(original), p.GetValue(copy)));
        Assert.Equal(original, copy);
        Assert.Equal(original.GetHashCode(), copy.GetHashCode());
        Assert.Equal("ACTION: A = 5", original.RawAnswer);
        Assert.Equal(new Usage(10, 2), original.Usage);
        Assert.Equal(2, original.Retries);
        Assert.Equal(new Intervention("A", 5), original.Action);
        Assert.Equal("other", changed.RawAnswer);
        Assert.Equal(0, changed.Retries);
        Assert.Null(changed.Action);
        Assert.Equal(original.Messages, changed.Messages);
        Assert.NotEqual(original, changed);
    }

    [Fact]
    public void Defaults_ABuiltInDecisionHasNoModelFields_AndEqualsOneWithThemSetToTheirDefaults()
    {
        var plain = AgentDecision.Act(new Intervention("A", 5));
        var explicitDefaults = plain with { RawAnswer = null, Usage = default, Cached = false, Retries = 0, RetryReasons = [], Messages = default };
        var setThenCleared = Full() with
        {
            Move = null, LenientMove = null, Edges = null, ParseError = null, RawAnswer = null, Rationale = null, Usage = default,
            LenientAction = null, LenientEdges = null, Messages = default, Latency = null, Cached = false, Retries = 0, RetryReasons = [],
        };

        Assert.Null(plain.RawAnswer);
        Assert.Equal(default, plain.Usage);
        Assert.True(plain.Messages.IsDefault);
        Assert.Equal(ImmutableArray<string>.Empty, plain.RetryReasons);
        Assert.Equal(plain, explicitDefaults);
        Assert.Equal(plain, setThenCleared);
        Assert.Equal(plain.GetHashCode(), setThenCleared.GetHashCode());
        Assert.NotEqual(plain, plain with { Cached = true });
    }
}
