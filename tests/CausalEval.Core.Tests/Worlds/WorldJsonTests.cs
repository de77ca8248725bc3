using System.Buffers;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Worlds;

public class WorldJsonTests
{
    private const string Source = "w.json";

    private static InputException Bad(string json)
    {
        var ex = Assert.Throws<InputException>(() => WorldJson.Parse(json, Source));
        Assert.Equal(Source, ex.Origin);
        Assert.Contains(Source, ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.Field, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    [Fact]
    public void Parse_ReadsTheDesignExample()
    {
        var world = WorldJson.Parse("""
            {"variables": ["A","B","C","D","E"],
             "edges": [{"from": "A", "to": "C", "weight": 1}, {"from": "C", "to": "E", "weight": -1}],
             "noise_sd": 0.1,
             "hidden": []}
            """, Source);

        Assert.Equal<string>(["A", "B", "C", "D", "E"], world.Variables);
        Assert.Equal(2, world.Edges.Length);
        Assert.Equal(-1.0, world.TotalEffect("A", "E"));
        Assert.Equal(0.1, world.NoiseSd);
        Assert.Empty(world.Hidden);
    }

    [Fact]
    public void Parse_DefaultsNoiseAndHiddenAndAcceptsRealWeights()
    {
        var world = WorldJson.Parse("""{"variables": ["x y", "z"], "edges": [{"from": "x y", "to": "z", "weight": 0.25}]}""", Source);

        Assert.Equal(0.1, world.NoiseSd);
        Assert.Empty(world.Hidden);
        Assert.Equal(0.25, world.TotalEffect("x y", "z"));
    }

    [Fact]
    public void Write_ThenParse_RoundTrips()
    {
        var world = HandWorlds.HiddenRoot(noiseSd: 0.3);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WorldJson.Write(writer, world);
        }
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan);

        var back = WorldJson.Parse(text, Source);

        Assert.Equal<string>(world.Variables, back.Variables);
        Assert.Equal<Edge>(world.Edges, back.Edges);
        Assert.Equal<string>(world.Hidden, back.Hidden);
        Assert.Equal(world.NoiseSd, back.NoiseSd);
    }

    [Fact]
    public void UnknownVariableInAnEdge_NamesTheEdgeField()
    {
        var ex = Bad("""{"variables": ["A","B"], "edges": [{"from": "A", "to": "Q", "weight": 1}]}""");

        Assert.Equal("edges[0].to", ex.Field);
        Assert.Contains("'Q'", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownVariableInAnEdgeSource_NamesTheFromField()
    {
        var ex = Bad("""{"variables": ["A","B"], "edges": [{"from": "A", "to": "B", "weight": 1}, {"from": "Q", "to": "B", "weight": 1}]}""");

        Assert.Equal("edges[1].from", ex.Field);
    }

    [Fact]
    public void DuplicateVariableNames_NameTheSecondOccurrence()
    {
        var ex = Bad("""{"variables": ["A","A"], "edges": []}""");

        Assert.Equal("variables[1]", ex.Field);
        Assert.Contains("duplicate", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ACycle_IsReportedOnEdgesAndTheMessageSpellsOutTheCycle()
    {
        var ex = Bad("""
            {"variables": ["A","B","C","D"],
             "edges": [{"from": "A", "to": "B", "weight": 1}, {"from": "B", "to": "C", "weight": 1},
                       {"from": "C", "to": "A", "weight": -1}, {"from": "C", "to": "D", "weight": 1}]}
            """);

        Assert.Equal("edges", ex.Field);
        const string marker = "cycle: ";
        var at = ex.Problem.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(at >= 0, ex.Problem);
        var cycle = ex.Problem[(at + marker.Length)..].Split(" -> ");
        // It is a closed walk along real edges, in their causal direction, through A, B and C.
        Assert.Equal(4, cycle.Length);
        Assert.Equal("A", cycle[0]); // starts at the variable listed first, so the message is stable
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(["A", "B", "C"], cycle[..3].Order());
        var edges = new HashSet<(string, string)> { ("A", "B"), ("B", "C"), ("C", "A") };
        for (var i = 0; i + 1 < cycle.Length; i++)
        {
            Assert.Contains((cycle[i], cycle[i + 1]), edges);
        }
    }

    [Fact]
    public void ATwoCycle_IsACycleToo()
    {
        var ex = Bad("""{"variables": ["A","B"], "edges": [{"from": "A", "to": "B", "weight": 1}, {"from": "B", "to": "A", "weight": 1}]}""");

        Assert.Equal("edges", ex.Field);
        Assert.Contains("cycle", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ASelfLoop_NamesTheEdge()
    {
        var ex = Bad("""{"variables": ["A","B"], "edges": [{"from": "A", "to": "A", "weight": 1}]}""");

        Assert.Equal("edges[0]", ex.Field);
    }

    [Fact]
    public void AnOverflowingWeight_IsAnInputErrorOnTheWeightField()
    {
        // JSON cannot hold NaN or Infinity; 1e400 is the nearest thing: it overflows a double.
        var ex = Bad("""{"variables": ["A","B"], "edges": [{"from": "A", "to": "B", "weight": 1e400}]}""");

        Assert.Equal("edges[0].weight", ex.Field);
    }

    [Fact]
    public void ANonFiniteWeight_IsRejectedByTryCreate()
    {
        foreach (var weight in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            var (world, field, problem) = World.TryCreate(["A", "B"], [new Edge("A", "B", weight)], 0.1, []);

            Assert.Null(world);
            Assert.Equal("edges[0].weight", field);
            Assert.Contains("finite", problem, StringComparison.Ordinal);
        }
        var ex = Assert.Throws<InputException>(() => World.Create(["A", "B"], [new Edge("A", "B", double.NaN)], 0.1, null, "mine.json"));
        Assert.Equal("mine.json", ex.Origin);
        Assert.Equal("edges[0].weight", ex.Field);
    }

    [Fact]
    public void FiniteWeightsWhoseProductOverflows_AreRejected()
    {
        // 1e60 · 1e60 = 1e120 along A->B->C: each weight is fine, the total effect of A on C is beyond the bound.
        var (world, field, problem) = World.TryCreate(["A", "B", "C"], [new Edge("A", "B", 1e60), new Edge("B", "C", 1e60)], 0.1, []);

        Assert.Null(world);
        Assert.Equal("edges", field);
        Assert.Contains("total effect of A on C", problem, StringComparison.Ordinal);
        Assert.NotNull(World.TryCreate(["A", "B", "C"], [new Edge("A", "B", 1e40), new Edge("B", "C", 1e40)], 0.1, []).World);
    }

    [Fact]
    public void ANonFiniteOrNegativeNoise_IsRejected()
    {
        Assert.Equal("noise_sd", World.TryCreate(["A"], [], double.NaN, []).Field);
        Assert.Equal("noise_sd", World.TryCreate(["A"], [], -0.1, []).Field);
        Assert.Equal("noise_sd", Bad("""{"variables": ["A"], "noise_sd": -1}""").Field);
    }

    [Fact]
    public void AnEmptyVariableList_IsRejected()
    {
        var ex = Bad("""{"variables": [], "edges": []}""");

        Assert.Equal("variables", ex.Field);
        Assert.Contains("empty", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingVariableList_IsRejected()
    {
        Assert.Equal("variables", Bad("""{"edges": []}""").Field);
    }

    [Fact]
    public void AnUnknownHiddenVariable_NamesTheHiddenEntry()
    {
        var ex = Bad("""{"variables": ["A","B"], "edges": [], "hidden": ["A", "Z"]}""");

        Assert.Equal("hidden[1]", ex.Field);
        Assert.Contains("'Z'", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void HidingEveryVariable_IsRejected()
    {
        Assert.Equal("hidden", Bad("""{"variables": ["A"], "hidden": ["A"]}""").Field);
    }

    [Theory]
    [InlineData("""{"variables": ["A=1"]}""")]
    [InlineData("""{"variables": ["A,B"]}""")]
    [InlineData("""{"variables": ["A->B"]}""")]
    [InlineData("""{"variables": [" A"]}""")]
    [InlineData("""{"variables": [""]}""")]
    public void BadVariableNames_AreRejected(string json)
    {
        Assert.Equal("variables[0]", Bad(json).Field);
    }

    [Fact]
    public void MalformedJson_GivesLineAndColumn()
    {
        var ex = Bad("{\n  \"variables\": [\"A\", \"B\"],\n  \"edges\": [ oops ]\n}");

        Assert.StartsWith("line 3, column ", ex.Field, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownField_IsRejectedRatherThanIgnored()
    {
        var ex = Bad("""{"variables": ["A","B"], "edgez": []}""");

        Assert.Equal("edgez", ex.Field);
        Assert.Contains("unknown field", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownFieldInsideAnEdge_NamesItsPath()
    {
        var ex = Bad("""{"variables": ["A","B"], "edges": [{"from": "A", "to": "B", "weight": 1, "sign": "+"}]}""");

        Assert.Equal("edges[0].sign", ex.Field);
    }

    [Fact]
    public void AWrongType_NamesTheField()
    {
        var ex = Bad("""{"variables": ["A","B"], "edges": [{"from": "A", "to": "B", "weight": "one"}]}""");

        Assert.Equal("edges[0].weight", ex.Field);
        Assert.Contains("expected a number", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OfAMissingFileIsAnInputError()
    {
        var path = Path.Combine(Path.GetTempPath(), $"causaleval-missing-{Guid.NewGuid():N}.json");

        var ex = Assert.Throws<InputException>(() => WorldJson.Load(path));

        Assert.Equal(path, ex.Origin);
    }
}
