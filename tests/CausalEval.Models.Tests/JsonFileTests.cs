using CausalEval.Core;
using CausalEval.Models.Batch;
using CausalEval.Models.Costs;

namespace CausalEval.Models.Tests;

/// <summary>The Models files read through source-generated code keep their bytes and name file, line and field on bad input.</summary>
public sealed class JsonFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("causaleval-models-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Batch_state_lines_are_written_as_the_hand_written_writer_wrote_them_and_read_back()
    {
        var state = BatchState.Open(_dir);
        state.Uploaded("openai/x", "file-1", [("t1:0", "aa"), ("t2:0", "bb")]);
        state.Created("openai/x", "file-1", "batch-1");
        state.Ended(new BatchJob("batch-1", "completed", "file-out", null, null));

        Assert.Equal(
            [
                """{"event":"uploaded","model":"openai/x","file_id":"file-1","requests":{"t1:0":"aa","t2:0":"bb"}}""",
                """{"event":"created","model":"openai/x","file_id":"file-1","batch_id":"batch-1"}""",
                """{"event":"ended","batch_id":"batch-1","status":"completed","output_file_id":"file-out","error_file_id":null,"errors":null}""",
            ],
            File.ReadAllLines(state.StatePath));
        var reopened = BatchState.Open(_dir);
        Assert.Equal(("file-1", "batch-1"), reopened.Find("t2:0", "bb"));
        Assert.Equal("file-out", reopened.Ended("batch-1")!.OutputFileId);
        Assert.Empty(reopened.Open());
    }

    [Theory]
    [InlineData("""{"event":"paused","batch_id":"b"}""", "not a batch state event (event: unknown event 'paused' (expected uploaded, created, ended))")]
    [InlineData("""{"event":"created","model":"m","file_id":"f"}""", "not a batch state event (batch_id: required field is missing)")]
    [InlineData("""{"event":"created","model":"m","file_id":7,"batch_id":"b"}""", "not a batch state event (file_id: expected a string, found number 7)")]
    public void A_damaged_batch_state_line_before_the_last_names_the_file_and_line(string line, string problem)
    {
        var folder = Path.Combine(_dir, BatchState.FolderName);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, BatchState.FileName);
        File.WriteAllLines(path, [line, """{"event":"created","model":"m","file_id":"f","batch_id":"b"}"""]);

        var ex = Assert.Throws<InputException>(() => BatchState.Open(_dir));

        Assert.Equal(path, ex.Origin);
        Assert.Equal("line 1", ex.Field);
        Assert.Equal(problem, ex.Problem);
    }

    [Fact]
    public void A_cut_off_last_batch_state_line_is_ignored()
    {
        var folder = Path.Combine(_dir, BatchState.FolderName);
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, BatchState.FileName),
            ["""{"event":"created","model":"m","file_id":"f","batch_id":"b"}""", """{"event":"ended","batch_id":"b","sta"""]);

        Assert.Equal([("b", "m")], BatchState.Open(_dir).Open());
    }

    [Theory]
    [InlineData("""{"models": {"openai/x": {"input": -1, "output": 2}}}""", "models.openai/x.input", "must be at least 0")]
    [InlineData("""{"models": {"openai/x": {"input": 1, "output": 2, "cached": 1}}}""", "models.openai/x.cached", "unknown field (expected one of: input, output, cached_input, cache_write, batch)")]
    [InlineData("""{"models": {"openai/x": {"input": 1}}}""", "models.openai/x.output", "required field is missing")]
    [InlineData("""{"models": {"openai/x": null}}""", "models.openai/x", "required field is missing")]
    [InlineData("""{"note": "x"}""", "models", "required field is missing")]
    [InlineData("""{"models": {"openai/x": {"input": "cheap", "output": 2}}}""", "models.openai/x.input", "expected a number, found string \"cheap\"")]
    public void A_bad_price_file_names_the_file_and_field(string json, string field, string problem)
    {
        var path = Path.Combine(_dir, "prices.json");
        File.WriteAllText(path, json);

        var ex = Assert.Throws<InputException>(() => PriceTable.Load(path));

        Assert.Equal(path, ex.Origin);
        Assert.Equal(field, ex.Field);
        Assert.Equal(problem, ex.Problem);
    }

    [Fact]
    public void A_price_file_may_carry_notes_beside_its_models()
    {
        var path = Path.Combine(_dir, "prices.json");
        File.WriteAllText(path, """{"_comment": "USD per million tokens", "models": {"openai/x": {"input": 1, "output": 2, "batch": 0.5}}}""");

        Assert.Equal(2, PriceTable.Load(path).Find("openai/x")!.OutputPerMillion);
    }
}
