using CausalEval.Reporting.Input;

namespace CausalEval.Reporting.Tests.Input;

public class TrialIdSetTests
{
    [Fact]
    public void Add_counts_each_id_once_whether_it_is_the_runners_hex_or_any_other_text()
    {
        var set = new TrialIdSet();

        Assert.True(set.Add("00ab12cd34ef5678"));
        Assert.False(set.Add("00ab12cd34ef5678"));
        Assert.True(set.Add("00AB12CD34EF5678"));   // another spelling is another id, as text compares
        Assert.False(set.Add("00AB12CD34EF5678"));
        Assert.True(set.Add("trial-1"));
        Assert.False(set.Add("trial-1"));
        Assert.True(set.Add("00ab12cd34ef567"));    // 15 digits: text
        Assert.True(set.Add("ffffffffffffffff"));
        Assert.True(set.Add("0000000000000000"));
        Assert.False(set.Add("ffffffffffffffff"));
    }
}
