using CausalEval.Core;

namespace CausalEval.Baseline.Tests;

/// <summary>Model cards through source-generated code: the committed cards keep their bytes, a damaged one names file and field.</summary>
public class ModelCardTests
{
    public static TheoryData<string> Checkpoints() =>
        [.. Directory.GetDirectories(Path.Combine(BaselineFixtures.RepoRoot, "models", "torch")).Select(d => Path.GetFileName(d))];

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void A_committed_card_written_again_keeps_its_bytes(string checkpoint)
    {
        var path = Path.Combine(BaselineFixtures.RepoRoot, "models", "torch", checkpoint, ModelCard.FileName);
        var text = File.ReadAllText(path);

        Assert.Equal(text, ModelCard.Parse(path, text).ToJson());
    }

    [Theory]
    [InlineData("\"layers\": ", "\"layers\": \"two\", \"x\": ", "architecture.layers", "expected a whole number, found string \"two\"")]
    [InlineData("\"seed\": ", "\"seed\": -1, \"y\": ", "training.seed", "expected a non-negative whole number, found number -1")]
    public void A_damaged_card_names_the_file_and_field(string from, string to, string field, string problem)
    {
        var path = Path.Combine(BaselineFixtures.DefaultCheckpoint, ModelCard.FileName);
        var text = File.ReadAllText(path);
        Assert.Contains(from, text, StringComparison.Ordinal);
        var damaged = text.Replace(from, to, StringComparison.Ordinal);

        var ex = Assert.Throws<InputException>(() => ModelCard.Parse("model.json", damaged));

        Assert.Equal("model.json", ex.Origin);
        Assert.Equal(field, ex.Field);
        Assert.Equal(problem, ex.Problem);
    }
}
