using CausalEval.Reporting.Output;
using CausalEval.Reporting.Tests.Support;

namespace CausalEval.Reporting.Tests.Output;

/// <summary>No CSV the report writes lets a spreadsheet run a model id or a prompt variant as a formula.</summary>
public sealed class CsvSafetyTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")")]
    [InlineData("+SUM(A1)", "'+SUM(A1)")]
    [InlineData("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "'\rx")]
    [InlineData("-0.25", "-0.25")]
    [InlineData("-1e-05", "-1e-05")]
    [InlineData("openai/gpt-4o", "openai/gpt-4o")]
    [InlineData("", "")]
    public void SafeCell_formula_starts_get_an_apostrophe_and_numbers_stay_numbers(string cell, string expected)
    {
        Assert.Equal(expected, Format.SafeCell(cell));
    }

    [Fact]
    public void Every_csv_of_a_report_neutralises_model_ids_and_variants_that_look_like_formulas()
    {
        const string evilModel = "=HYPERLINK(\"http://evil\",\"click\")";
        const string evilVariant = "-2+3";
        var trials = new List<TrialSpec>();
        foreach (var model in new[] { evilModel, "@model/x" })
        {
            foreach (var variant in new[] { "zero-shot", "few-shot", evilVariant })
            {
                for (var e = 0; e < 4; e++)
                {
                    trials.Add(new TrialSpec
                    {
                        Task = "explore-exploit", Episode = $"test-{e:0000}", Model = model, Variant = variant,
                        Normalized = (e + variant.Length) % 3 / 2.0, OptimalAction = e % 2,
                    });
                }
            }
        }
        var run = SyntheticRun.Write(_temp.Sub("run"), trials);

        var result = ReportGenerator.Generate(new ReportOptions([run], _temp.Sub("report")));

        var csvs = result.Files.Where(f => f.EndsWith(".csv", StringComparison.Ordinal)).ToList();
        Assert.Contains(csvs, f => f.EndsWith("leaderboard.csv", StringComparison.Ordinal));
        Assert.Contains(csvs, f => f.EndsWith("comparisons.csv", StringComparison.Ordinal));
        Assert.Contains(csvs, f => f.EndsWith("ablation.csv", StringComparison.Ordinal));
        foreach (var file in csvs)
        {
            var text = File.ReadAllText(file);
            Assert.Contains("'=HYPERLINK", text);
            foreach (var cell in Cells(text))
            {
                Assert.False(cell.Length > 0 && cell[0] is '=' or '+' or '@' or '\t' or '\r', $"{Path.GetFileName(file)}: unsafe cell {cell}");
                Assert.False(cell.StartsWith('-') && !double.TryParse(cell, System.Globalization.CultureInfo.InvariantCulture, out _),
                    $"{Path.GetFileName(file)}: unsafe cell {cell}");
            }
        }
    }

    /// <summary>The cells of an RFC 4180 file (quoted cells unquoted), read independently of the writer.</summary>
    private static IEnumerable<string> Cells(string csv)
    {
        var cell = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < csv.Length; i++)
        {
            var c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c is ',' or '\n')
            {
                yield return cell.ToString();
                cell.Clear();
            }
            else
            {
                cell.Append(c);
            }
        }
    }
}
