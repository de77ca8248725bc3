using CausalEval.Core.Tasks;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Json;

/// <summary>
/// Files read through source-generated metadata still get JsonRead's messages: the serializer's own errors (a .NET type
/// name, a JSON path) are reworded, per field, with the file and line of the caller.
/// </summary>
public class JsonInputTests
{
    private const string Line = """{"id":"m","seed":1,"world":{"variables":["A","B"],"edges":[{"from":"A","to":"B","weight":1}]},"target":"B"}""";

    private static InputException BadLine(string from, string to)
    {
        Assert.Contains(from, Line, StringComparison.Ordinal);
        var ex = Assert.Throws<InputException>(() => EpisodeJson.Parse(Line.Replace(from, to, StringComparison.Ordinal), "test.jsonl:7"));
        Assert.Equal("test.jsonl:7", ex.Origin);
        return ex;
    }

    [Theory]
    [InlineData("\"seed\":1", "\"seed\":\"one\"", "seed", "expected a non-negative whole number, found string \"one\"")]
    [InlineData("\"seed\":1", "\"seed\":-1", "seed", "expected a non-negative whole number, found number -1")]
    [InlineData("\"seed\":1", "\"seed\":1.5", "seed", "expected a non-negative whole number, found number 1.5")]
    [InlineData("\"seed\":1,", "", "seed", "required field is missing")]
    [InlineData("\"seed\":1", "\"seed\":null", "seed", "required field is missing")]
    [InlineData("\"target\":\"B\"", "\"target\":\"B\",\"targte\":1", "targte", "unknown field (expected one of: id, split, seed, world, target, subset, heldout_link, explore_steps, goal_first, ask_structure, allowed_values, evidence)")]
    [InlineData("\"weight\":1", "\"weight\":\"one\"", "world.edges[0].weight", "expected a number, found string \"one\"")]
    [InlineData("\"weight\":1", "\"weight\":1e400", "world.edges[0].weight", "number 1e400 is not finite")]
    [InlineData("\"weight\":1", "\"weight\":1,\"sign\":1", "world.edges[0].sign", "unknown field (expected one of: from, to, weight)")]
    [InlineData("[\"A\",\"B\"]", "[\"A\",null]", "world.variables[1]", "expected a string, found null")]
    [InlineData("[\"A\",\"B\"]", "\"AB\"", "world.variables", "expected an array, found string \"AB\"")]
    [InlineData("\"target\":\"B\"", "\"target\":\"B\",\"explore_steps\":101", "explore_steps", "101 is out of range [0, 100]")]
    [InlineData("\"target\":\"B\"", "\"target\":\"B\",\"explore_steps\":1e10", "explore_steps", "expected a whole number, found number 1e10")]
    [InlineData("\"target\":\"B\"", "\"target\":\"B\",\"goal_first\":1", "goal_first", "expected true or false, found number 1")]
    [InlineData("\"target\":\"B\"", "\"target\":\"B\",\"allowed_values\":[5,5]", "allowed_values", "allowed values must be different")]
    [InlineData("\"target\":\"B\"", "\"target\":\"B\",\"evidence\":{\"condition\":\"observational\",\"samples\":[{\"do\":{\"variable\":\"A\",\"value\":\"x\"},\"values\":{}}]}", "evidence.samples[0].do.value", "expected a number, found string \"x\"")]
    [InlineData("\"target\":\"B\"", "\"target\":\"B\",\"evidence\":{\"condition\":\"observational\",\"samples\":[{\"do\":null,\"values\":{\"A\":1}}]}", "evidence.samples[0].values.B", "required field is missing")]
    public void A_malformed_dataset_line_names_the_field_and_the_problem(string from, string to, string field, string problem)
    {
        var ex = BadLine(from, to);

        Assert.Equal(field, ex.Field);
        Assert.Equal(problem, ex.Problem);
    }

    [Fact]
    public void Invalid_json_in_a_line_names_its_line_and_column()
    {
        var ex = BadLine("\"target\":\"B\"", "\"target\":B");

        Assert.StartsWith("line 1, column ", ex.Field, StringComparison.Ordinal);
        Assert.StartsWith("not valid JSON", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null", "$", "expected an object, found null")]
    [InlineData("[]", "$", "expected an object, found an array")]
    [InlineData("""{"variables": ["A"], "noise_sd": "big"}""", "noise_sd", "expected a number, found string \"big\"")]
    [InlineData("""{"variables": ["A"], "edges": [null]}""", "edges[0]", "expected an object, found null")]
    [InlineData("""{"variables": ["A","B"], "edges": [{"from": "A", "weight": 1}]}""", "edges[0].to", "required field is missing")]
    public void A_malformed_world_file_names_the_field_and_the_problem(string json, string field, string problem)
    {
        var ex = Assert.Throws<InputException>(() => WorldJson.Parse(json, "w.json"));

        Assert.Equal("w.json", ex.Origin);
        Assert.Equal(field, ex.Field);
        Assert.Equal(problem, ex.Problem);
    }

    [Theory]
    [InlineData("\"colour\":\"olive\"", "\"colour\":\"mauve\"", "experiments[0].object.colour", "unknown colour 'mauve' (expected one of red, orange, yellow, lime, green, teal, cyan, azure, blue, navy, purple, violet, magenta, pink, brown, olive, grey, black, white)")]
    [InlineData("\"colour\":\"olive\"", "\"colour\":\"olive\",\"size\":1", "experiments[0].object.size", "unknown field (expected one of: colour, texture, shape)")]
    [InlineData("\"confounded\":false", "\"confounded\":\"no\"", "exploit.confounded", "expected true or false, found string \"no\"")]
    [InlineData("\"confounded\":false", "\"confounded\":true", "exploit.confounded", "says confounded, but the objects are not confounded")]
    [InlineData("\"concept\":\"colour\"", "\"concept\":\"size\"", "concept", "unknown dimension 'size' (expected colour, texture or shape)")]
    public void A_malformed_odd_one_out_line_names_the_field_and_the_problem(string from, string to, string field, string problem)
    {
        var line = File.ReadLines(Repo.TestSplitPath("odd-one-out")).First();
        Assert.Contains(from, line, StringComparison.Ordinal);

        var ex = Assert.Throws<InputException>(() => Core.OddOneOut.OddOneOutJson.Parse(line.Replace(from, to, StringComparison.Ordinal), "test.jsonl:1"));

        Assert.Equal("test.jsonl:1", ex.Origin);
        Assert.Equal(field, ex.Field);
        Assert.Equal(problem, ex.Problem);
    }
}
