using System.Buffers;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Running;
using CausalEval.Core.Scoring;
using CausalEval.Core.Tests.Support;
using static CausalEval.Core.Tests.Support.Steps;
using CausalEval.Core.Results;

namespace CausalEval.Core.Tests.Results;

public class TrialFieldsTests
{
    private static readonly Scores Full = new()
    {
        ExploitValue = -2.5, OptimalValue = 5, Normalized = -0.5, OptimalAction = 1, Regret = 7.5, ExploreCoverage = 0.75,
        SubsetAdherence = 0.5, StructureF1 = 0.4, Shd = 3, InvalidActions = 2, ParseFailures = 1,
    };

    private static byte[] Line(Scores? scores)
    {
        var episode = Episode(HandWorlds.ConfoundedFork(), "B");
        var spec = new TrialSpec(0, "id", "task", 1, "test", episode, "m", null, 1, 1, 2);
        var record = new TrialRecord(spec, Transcript(), scores, default, 0, TimeSpan.Zero, FixedTimeProvider.Now, FixedTimeProvider.Now, null);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TrialJson.Write(writer, record);
        }
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Every_score_has_one_row_in_the_table()
    {
        var properties = typeof(Scores).GetProperties().Select(p => p.Name).Order().ToList();
        var rows = TrialFields.Scores.Select(f => f.Name.Replace("_", "", StringComparison.Ordinal)).Order().ToList();

        Assert.Equal(properties.Select(p => p.ToLowerInvariant()), rows);
    }

    [Fact]
    public void The_writer_writes_the_tables_fields_in_its_order_and_the_reader_reads_every_score_back()
    {
        var json = Line(Full);
        using var document = JsonDocument.Parse(json);

        Assert.Equal(TrialFields.Line.Select(f => f.Value), document.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(TrialFields.Scores.Select(f => f.Name), document.RootElement.GetProperty("scores").EnumerateObject().Select(p => p.Name));
        var read = TrialLog.Parse(json, "trials.jsonl", 1);
        Assert.Equal(Full, read.Scores);
    }

    [Fact]
    public void Scores_that_do_not_apply_are_written_as_null_and_read_back_as_null()
    {
        var sparse = new Scores { OptimalValue = 5, OptimalAction = 0 };
        var json = Line(sparse);

        Assert.Contains("\"shd\":null", Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        Assert.Contains("\"invalid_actions\":0", Encoding.UTF8.GetString(json), StringComparison.Ordinal);
        Assert.Equal(sparse, TrialLog.Parse(json, "trials.jsonl", 1).Scores);
    }

    [Theory]
    [InlineData("optimal_value")]
    [InlineData("optimal_action")]
    [InlineData("invalid_actions")]
    [InlineData("parse_failures")]
    public void A_line_without_a_required_score_is_bad_input_naming_it(string field)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Line(Full))!;
        node["scores"]!.AsObject().Remove(field);

        var error = Assert.Throws<InputException>(() => TrialLog.Parse(Encoding.UTF8.GetBytes(node.ToJsonString()), "f.jsonl", 4));

        Assert.Equal(("f.jsonl:4", $"scores.{field}"), (error.Origin, error.Field));
    }
}
