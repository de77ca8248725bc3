using System.Text.Json;
using CausalEval.Core.OddOneOut;
using CausalEval.Core.Tasks;
using CausalEval.Core.Tests.Support;

namespace CausalEval.Core.Tests.OddOneOut;

public class OddOneOutDatasetTests
{
    public static TheoryData<string, string> CommittedSplits()
    {
        var data = new TheoryData<string, string>();
        foreach (var id in Repo.OddOneOutTaskIds)
        {
            data.Add(id, TaskDefinition.TestSplit);
            data.Add(id, TaskDefinition.ValidationSplit);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CommittedSplits))]
    public void Regenerating_a_committed_split_reproduces_its_file_byte_for_byte(string taskId, string split)
    {
        var task = Repo.Catalog.Load(taskId);
        using var stream = new MemoryStream();

        TaskCatalog.WriteSplit(task, split, null, stream);

        Assert.True(File.ReadAllBytes(Repo.Catalog.SplitPath(taskId, split)).AsSpan().SequenceEqual(stream.ToArray()),
            $"{taskId}: generated {split} bytes differ from the committed file");
    }

    [Theory]
    [MemberData(nameof(CommittedSplits))]
    public void Every_line_carries_the_concept_and_the_exploit_objects_with_a_value_per_dimension(string taskId, string split)
    {
        foreach (var line in File.ReadLines(Repo.Catalog.SplitPath(taskId, split)))
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            Assert.True(Dimensions.TryParse(root.GetProperty("concept").GetString()!, out _));
            var objects = root.GetProperty("exploit").GetProperty("objects").EnumerateArray().ToList();
            Assert.Equal(4, objects.Count);
            Assert.All(objects, o =>
            {
                Assert.Equal(["name", "colour", "texture", "shape"], o.EnumerateObject().Select(p => p.Name));
                Assert.Contains(o.GetProperty("colour").GetString(), Dimensions.Colours);
                Assert.Contains(o.GetProperty("texture").GetString(), Dimensions.Textures);
                Assert.Contains(o.GetProperty("shape").GetString(), Dimensions.Shapes);
            });
        }
    }

    [Fact]
    public void The_palette_has_the_official_sizes_19_colours_6_textures_11_shapes()
    {
        Assert.Equal((19, 6, 11), (Dimensions.Colours.Distinct().Count(), Dimensions.Textures.Distinct().Count(), Dimensions.Shapes.Distinct().Count()));
    }

    [Fact]
    public void Confounded_train_exploits_have_one_object_odd_along_every_dimension_while_validation_and_test_are_deconfounded()
    {
        var task = Repo.Catalog.Load("odd-one-out-confounded");
        var train = OddOneOutGenerator.Generate(task, TaskDefinition.TrainSplit, 300).ToList();

        Assert.All(train, e =>
        {
            Assert.True(e.Confounded);
            var counts = e.ExploitObjects.Select((_, i) => OddObject.UniqueDimensions(e.ExploitObjects, i)).Order().ToArray();
            Assert.Equal([0, 0, 0, 3], counts);
        });
        foreach (var split in new[] { TaskDefinition.TestSplit, TaskDefinition.ValidationSplit })
        {
            Assert.All(Repo.Puzzles("odd-one-out-confounded", split), Deconfounded);
        }
        Assert.All(OddOneOutGenerator.Generate(Repo.Catalog.Load("odd-one-out"), TaskDefinition.TrainSplit, 100), Deconfounded);
    }

    /// <summary>Three objects each unique along a different dimension, one unique along none.</summary>
    private static void Deconfounded(OddOneOutEpisode e)
    {
        Assert.False(e.Confounded);
        var uniqueAlong = e.ExploitObjects.Select((_, i) => Dimensions.All.Where(d => OddObject.IsUnique(e.ExploitObjects, i, d)).ToList()).ToList();
        Assert.Equal(1, uniqueAlong.Count(u => u.Count == 0));
        Assert.Equal(Dimensions.All.Order(), uniqueAlong.Where(u => u.Count > 0).Select(u => Assert.Single(u)).Order());
    }

    [Fact]
    public void The_held_out_dimension_is_never_the_concept_in_train_and_always_in_validation_and_test()
    {
        var task = Repo.Catalog.Load("odd-one-out-heldout-dimension");
        Assert.Equal(Dimension.Shape, task.OddOneOut!.HeldoutDimension);

        var train = OddOneOutGenerator.Generate(task, TaskDefinition.TrainSplit).ToList();

        Assert.DoesNotContain(train, e => e.Concept == Dimension.Shape);
        Assert.Equal([Dimension.Colour, Dimension.Texture], train.Select(e => e.Concept).Distinct().Order());
        Assert.All(Repo.Puzzles(task.Id), e => Assert.Equal(Dimension.Shape, e.Concept));
        Assert.All(Repo.Puzzles(task.Id, TaskDefinition.ValidationSplit), e => Assert.Equal(Dimension.Shape, e.Concept));
    }

    [Theory]
    [InlineData("odd-one-out")]
    [InlineData("odd-one-out-confounded")]
    [InlineData("odd-one-out-heldout-dimension")]
    public void Splits_share_no_episode_and_every_experiment_transform_changes_the_objects(string taskId)
    {
        var task = Repo.Catalog.Load(taskId);
        var test = Repo.Puzzles(taskId).Select(OddOneOutGenerator.Key).ToList();
        var validation = Repo.Puzzles(taskId, TaskDefinition.ValidationSplit).Select(OddOneOutGenerator.Key).ToList();
        var train = OddOneOutGenerator.Generate(task, TaskDefinition.TrainSplit).ToList();

        Assert.Equal(test.Count, test.Distinct().Count());
        Assert.Empty(test.Intersect(validation));
        Assert.Empty(train.Select(OddOneOutGenerator.Key).Intersect(test.Concat(validation)));
        Assert.All(train, e => Assert.All(e.Experiments, t =>
            Assert.All(Dimensions.All, d => Assert.NotEqual(t.Objects[0].Value(d), t.TransformValue(d)))));
    }

    [Fact]
    public void Episodes_depend_only_on_the_split_seed_and_index_so_prefixes_are_stable()
    {
        var task = Repo.Catalog.Load("odd-one-out");

        var first = OddOneOutGenerator.Generate(task, TaskDefinition.TrainSplit, 10).Select(e => OddOneOutJson.ToLine(e, "train")).ToList();
        var longer = OddOneOutGenerator.Generate(task, TaskDefinition.TrainSplit, 20).Select(e => OddOneOutJson.ToLine(e, "train")).ToList();

        Assert.Equal(first, longer.Take(10));
        Assert.Equal(first[7], OddOneOutJson.ToLine(OddOneOutGenerator.GenerateEpisode(task, TaskDefinition.TrainSplit, 7), "train"));
    }

    [Fact]
    public void A_line_round_trips_through_the_reader()
    {
        var episode = Repo.Puzzles("odd-one-out-confounded")[3];
        var line = OddOneOutJson.ToLine(episode, "test");

        var (read, split) = OddOneOutJson.Parse(line, "x.jsonl:4");

        Assert.Equal("test", split);
        Assert.Equal(line, OddOneOutJson.ToLine(read, "test"));
        Assert.Equal((episode.Concept, episode.Answer, episode.Seed), (read.Concept, read.Answer, read.Seed));
    }

    [Theory]
    [InlineData("\"concept\":\"colour\"", "\"concept\":\"size\"", "concept", "unknown dimension 'size'")]
    [InlineData("\"name\":\"A\",\"colour\":\"", "\"name\":\"A\",\"colour\":\"mauve", "exploit.objects[0].colour", "unknown colour")]
    [InlineData("\"confounded\":false", "\"confounded\":true", "exploit.confounded", "not confounded")]
    [InlineData("\"name\":\"B\"", "\"name\":\"Z\"", "exploit.objects[1].name", "expected object B")]
    public void A_bad_line_is_bad_input_naming_file_line_and_field(string find, string replace, string field, string problem)
    {
        var line = OddOneOutJson.ToLine(Repo.Puzzles("odd-one-out")[0], "test");
        Assert.Contains(find, line, StringComparison.Ordinal);
        var bad = ReplaceFirst(line, find, replace);

        var ex = Assert.Throws<InputException>(() => OddOneOutJson.Parse(bad, "test.jsonl:1"));

        Assert.Equal("test.jsonl:1", ex.Origin);
        Assert.Equal(field, ex.Field.Replace("$.", "", StringComparison.Ordinal));
        Assert.Contains(problem, ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Exploit_objects_with_no_single_right_answer_are_refused()
    {
        var episode = Repo.Puzzles("odd-one-out")[0];
        var line = OddOneOutJson.ToLine(episode, "test");
        using var document = JsonDocument.Parse(line);
        var first = document.RootElement.GetProperty("exploit").GetProperty("objects")[0];
        // Every object a copy of A: nothing is unique along the concept.
        var copies = string.Join(",", "ABCD".Select(n => first.GetRawText().Replace("\"name\":\"A\"", $"\"name\":\"{n}\"", StringComparison.Ordinal)));
        var objects = document.RootElement.GetProperty("exploit").GetProperty("objects").GetRawText();
        var bad = line.Replace(objects, $"[{copies}]", StringComparison.Ordinal).Replace("\"confounded\":false,", "", StringComparison.Ordinal);

        var ex = Assert.Throws<InputException>(() => OddOneOutJson.Parse(bad, "t.jsonl:1"));

        Assert.Contains("exactly one exploit object must be unique along the concept", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dag_reader_names_the_odd_one_out_field_it_does_not_know()
    {
        var ex = Assert.Throws<InputException>(() => TaskCatalog.ReadSplitFile(Repo.Catalog.TestSplitPath("odd-one-out")).First());

        Assert.Contains("concept", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_task_file_refuses_dag_fields_in_an_odd_one_out_task_and_unknown_dimensions()
    {
        const string Good = """
            {"id": "t", "version": 1, "family": "odd-one-out", "odd_one_out": {"experiments": 3, "confounded_train": true, "heldout_dimension": "texture"},
             "splits": {"train": {"seed": 1, "episodes": 5}, "test": {"seed": 2, "episodes": 5}}}
            """;
        var task = TaskJson.Parse(Good, "task.json");
        Assert.Equal(new OddOneOutRule(3, true, Dimension.Texture), task.OddOneOut);

        var withGenerator = Good.Replace("\"odd_one_out\"", "\"generator\": {\"variables\": 4}, \"odd_one_out\"", StringComparison.Ordinal);
        Assert.Contains("no generator", Assert.Throws<InputException>(() => TaskJson.Parse(withGenerator, "task.json")).Message, StringComparison.Ordinal);
        var badDimension = Good.Replace("\"texture\"", "\"size\"", StringComparison.Ordinal);
        Assert.Contains("unknown dimension 'size'", Assert.Throws<InputException>(() => TaskJson.Parse(badDimension, "task.json")).Message, StringComparison.Ordinal);
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        return text[..at] + replace + text[(at + find.Length)..];
    }
}
