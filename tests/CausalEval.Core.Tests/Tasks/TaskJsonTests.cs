using System.Text.Json.Nodes;
using CausalEval.Core.Tasks;
using CausalEval.Core.Tests.Support;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Tasks;

public class TaskJsonTests
{
    private const string Source = "datasets/x/task.json";

    private static string TaskText(string taskId = "explore-exploit-heldout-link")
        => File.ReadAllText(Path.Combine(Repo.DatasetsDirectory, taskId, "task.json"));

    private static InputException Bad(Action<JsonObject> edit, string taskId = "explore-exploit-heldout-link")
    {
        var node = JsonNode.Parse(TaskText(taskId))!.AsObject();
        edit(node);
        var ex = Assert.Throws<InputException>(() => TaskJson.Parse(node.ToJsonString(), Source));
        Assert.Equal(Source, ex.Origin);
        Assert.Contains(Source, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    [Fact]
    public void TheCommittedTasksParse()
    {
        var task = TaskJson.Parse(TaskText(), Source);

        Assert.Equal("explore-exploit-heldout-link", task.Id);
        Assert.Equal(1, task.Version);
        Assert.Equal(TaskDefinition.ExploreExploitFamily, task.Family);
        Assert.Equal(new DirectedLink("D", "B"), task.HeldoutLink);
        Assert.Equal(5, task.Generator.Variables);
        Assert.Equal(2.0 / 3.0, task.Generator.EdgeProbability, 12);
        Assert.Equal(200, task.Test.Episodes);
        Assert.Equal(2001UL, task.Test.Seed);
        Assert.Equal(2101UL, task.Train.Seed);
        Assert.Null(task.Evidence);

        var passive = TaskJson.Parse(TaskText("passive-exploit-observational"), Source);
        Assert.True(passive.Generator.HiddenConfounder);
        Assert.Equal(new EvidenceRule("observational", 10), passive.Evidence);
        Assert.Equal(0, passive.Episode.ExploreSteps);
    }

    [Fact]
    public void AnUnknownFamily_NamesTheFamilyField()
    {
        var ex = Bad(o => o["family"] = "interactive");

        Assert.Equal("family", ex.Field);
        Assert.Contains("interactive", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(9)]
    [InlineData(2)]
    public void AnUnsupportedVariableCount_NamesTheGeneratorField(int variables)
    {
        var ex = Bad(o => o["generator"]!["variables"] = variables);

        Assert.Equal("generator.variables", ex.Field);
        Assert.Contains(variables.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownField_IsRejected()
    {
        var ex = Bad(o => o["episodes_per_split"] = 10);

        Assert.Equal("episodes_per_split", ex.Field);
    }

    [Fact]
    public void AnUnknownNestedField_NamesItsPath()
    {
        var ex = Bad(o => o["splits"]!["test"]!["count"] = 10);

        Assert.Equal("splits.test.count", ex.Field);
    }

    [Theory]
    [InlineData("DB")]
    [InlineData("D->")]
    [InlineData("->B")]
    public void AMalformedHeldOutLink_NamesTheField(string link)
    {
        var ex = Bad(o => o["heldout_link"] = link);

        Assert.Equal("heldout_link", ex.Field);
    }

    [Fact]
    public void AHeldOutLinkOutsideTheGeneratedVariables_IsRejected()
    {
        var ex = Bad(o => o["heldout_link"] = "D->Z");

        Assert.Equal("heldout_link", ex.Field);
    }

    [Fact]
    public void AMissingSplit_IsRejected()
    {
        var ex = Bad(o => o["splits"]!.AsObject().Remove("test"));

        Assert.Equal("splits.test", ex.Field);
    }

    [Fact]
    public void AZeroVersion_IsRejected()
    {
        Assert.Equal("version", Bad(o => o["version"] = 0).Field);
    }

    [Fact]
    public void AnInvalidTaskId_IsRejected()
    {
        Assert.Equal("id", Bad(o => o["id"] = "Explore Exploit").Field);
    }

    [Fact]
    public void APassiveTaskWithoutEvidence_OrAnInteractiveTaskWithIt_IsRejected()
    {
        Bad(o => o.Remove("evidence"), "passive-exploit-interventional");
        var ex = Bad(o => o["evidence"] = new JsonObject { ["condition"] = "observational" });
        Assert.Equal("evidence", ex.Field);
    }

    [Fact]
    public void AnUnknownEvidenceCondition_IsRejected()
    {
        var ex = Bad(o => o["evidence"]!["condition"] = "anecdotal", "passive-exploit-interventional");

        Assert.Equal("evidence.condition", ex.Field);
    }

    [Fact]
    public void BadAllowedValues_AreRejected()
    {
        Assert.Equal("episode.allowed_values", Bad(o => o["episode"]!["allowed_values"] = new JsonArray(5, 0)).Field);
        Assert.Equal("episode.allowed_values", Bad(o => o["episode"]!["allowed_values"] = new JsonArray(5, 5)).Field);
        Assert.Equal("episode.allowed_values", Bad(o => o["episode"]!["allowed_values"] = new JsonArray()).Field);
    }

    [Fact]
    public void BadSubsets_AreRejected()
    {
        var ex = Bad(o => o["subsets"]!["test"]![0] = new JsonArray("A", "B", "Z"), "explore-exploit-heldout-subset");

        Assert.Equal("subsets.test[0]", ex.Field);
    }

    [Fact]
    public void MalformedJson_GivesLineAndColumn()
    {
        var ex = Assert.Throws<InputException>(() => TaskJson.Parse("{\n  \"id\": \"x\",\n  \"version\": 1,,\n}", Source));

        Assert.Equal(Source, ex.Origin);
        Assert.StartsWith("line 3, column ", ex.Field, StringComparison.Ordinal);
    }
}
