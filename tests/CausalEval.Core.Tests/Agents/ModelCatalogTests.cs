using CausalEval.Core.Agents;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.Agents;

public class ModelCatalogTests
{
    private static readonly ModelCatalog Catalog = new([new BuiltinModelProvider()]);

    [Fact]
    public void BuiltinIds_ResolveToFreshAgentsPerTrial()
    {
        var factory = Catalog.Resolve("builtin/expert");
        var episode = Repo.TestSplit("explore-exploit")[0];

        var a = factory(new TrialContext("t1", episode, 1, 1, null));
        var b = factory(new TrialContext("t2", episode, 1, 2, null));

        Assert.NotSame(a, b); // an agent may keep state for its one episode
    }

    [Theory]
    [InlineData("expert")]
    [InlineData("builtin/")]
    [InlineData("/expert")]
    [InlineData("builtin/oracle")]
    [InlineData("acme/gpt")]
    public void BadModelIds_AreInputErrorsOnTheModelOption(string modelId)
    {
        var ex = Assert.Throws<InputException>(() => Catalog.Resolve(modelId));

        Assert.Equal("--model", ex.Origin);
        Assert.Equal(modelId, ex.Field);
    }

    [Fact]
    public void AnUnknownBuiltin_ListsTheKnownOnes()
    {
        var ex = Assert.Throws<InputException>(() => Catalog.Resolve("builtin/oracle"));

        Assert.Contains("expert", ex.Problem, StringComparison.Ordinal);
        Assert.Contains("training-support", ex.Problem, StringComparison.Ordinal);
    }
}
