using System.Text.Json;

namespace CausalEval.Cli.Tests.Commands;

public class InferCommandTests
{
    // p = 1 on three variables: do(A = 5) showing B = 5, C = 10 leaves only A→B, B→C, A→C (all +1), so TE[A→C] = 2.
    private const string Decisive = """
        {"variables": ["A", "B", "C"], "edge_probability": 1, "noise_sd": 0.1, "allowed_values": [5, -5], "target": "C",
         "samples": [{"do": {"A": 5}, "values": {"A": 5, "B": 5, "C": 10}}]}
        """;

    [Fact]
    public async Task Prints_the_posterior_answer_in_the_contract_shape()
    {
        using var dir = new TempDir();
        var evidence = dir.File("evidence.json", Decisive);

        var (code, stdout, stderr) = await Cli.RunAsync("infer", evidence);

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(48, root.GetProperty("hypotheses").GetInt64());
        Assert.True(double.IsFinite(root.GetProperty("log_evidence").GetDouble()));
        Assert.Equal(4, root.GetProperty("exploit").GetArrayLength());
        var best = Assert.Single(root.GetProperty("bayes_exploit").EnumerateArray());
        Assert.Equal("A", best.GetProperty("variable").GetString());
        Assert.Equal(5, best.GetProperty("value").GetDouble());
        Assert.Equal(10, best.GetProperty("expected").GetDouble(), 9);
        Assert.Equal(6, root.GetProperty("information").GetArrayLength());
        // Nothing is left to learn: every experiment carries 0 bits, so all six tie.
        Assert.Equal(6, root.GetProperty("bayes_explore").GetArrayLength());
    }

    [Fact]
    public async Task Without_a_target_prints_no_exploit_fields()
    {
        using var dir = new TempDir();
        var evidence = dir.File("prior.json", """{"variables": ["A", "B", "C"], "samples": []}""");

        var (code, stdout, _) = await Cli.RunAsync("infer", evidence);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.False(json.RootElement.TryGetProperty("exploit", out _));
        Assert.Equal(0, json.RootElement.GetProperty("log_evidence").GetDouble(), 12);
        Assert.Equal(3, json.RootElement.GetProperty("bayes_explore").GetArrayLength() / 2);
    }

    [Theory]
    [InlineData("""{"variables": ["A", "B", "C"], "samples": [{"do": {"Q": 5}, "values": {"A": 1, "B": 2, "C": 3}}]}""", "samples[0].do.Q", "unknown variable")]
    [InlineData("""{"variables": ["A", "B", "C"], "samples": [{"do": null, "values": {"A": 1, "B": 2, "Z": 3}}]}""", "samples[0].values.Z", "unknown variable")]
    [InlineData("""{"variables": ["A", "B", "C"], "samples": [{"do": null, "values": {"A": 1, "B": 2}}]}""", "samples[0].values.C", "missing")]
    [InlineData("""{"variables": ["A", "B", "C"], "noise_sd": 0, "samples": []}""", "noise_sd", "> 0")]
    [InlineData("""{"variables": ["A", "B", "C"], "noise_sd": -1, "samples": []}""", "noise_sd", "> 0")]
    [InlineData("""{"variables": ["A", "B", "C", "D", "E", "F", "G", "H", "I"], "samples": []}""", "variables", "at most 8")]
    [InlineData("""{"variables": ["A", "B", "C", "D", "E", "F"], "samples": []}""", "variables", "up to 5")]
    [InlineData("""{"variables": ["A", "B", "C"], "target": "T", "samples": []}""", "target", "unknown variable 'T'")]
    [InlineData("""{"variables": ["A", "B", "C"], "edge_probability": 2, "samples": []}""", "edge_probability", "[0, 1]")]
    [InlineData("""{"variables": ["A", "B", "C"]}""", "samples", "missing")]
    [InlineData("""{"variables": ["A", "A", "C"], "samples": []}""", "variables[1]", "duplicate")]
    [InlineData("""{"variables": ["A", "B", "C"], "sample": []}""", "sample", "unknown field")]
    public async Task Bad_evidence_exits_2_naming_the_file_and_field(string evidenceJson, string field, string problem)
    {
        using var dir = new TempDir();
        var evidence = dir.File("bad.json", evidenceJson);

        var (code, stdout, stderr) = await Cli.RunAsync("infer", evidence);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains(evidence, stderr);
        Assert.Contains(field, stderr);
        Assert.Contains(problem, stderr);
    }
}
