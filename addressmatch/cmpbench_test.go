package addressmatch

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkCompareColdP99 measures Compare with the embedded compare model
// on pairs of long addresses that the parser has never seen (every call
// makes both addresses new, so that for a model trained with the tagger's
// readings the parser's cache of them never hits). BenchmarkCompareP99
// repeats its pairs.
func BenchmarkCompareColdP99(b *testing.B) {
	bases := [][2]string{
		{"江苏省南京市雨花台区西善桥街道邱村71号西善花苑万福园(万福园)2栋", "岱山中路西善花苑万福园西门万福园2号楼"},
		{"河南省郑州市二七区嵩山路街道办事处航海中路179号附6号公安局家属院多层4号楼四单元", "航海路179号附6号郑州市公安局家属院(东1门)"},
		{"向阳路劳动路十字新乡市中医院西临健民中医馆楼上三楼", "向阳路511号新乡市中医院门诊楼"},
		{"广东省深圳市宝安区沙井沙三上下围创业工业园0栋一楼", "沙井街道沙三上下围创业工业园(北门)"},
		{"江苏省南京市秦淮区五老村街道中山南路122号南京地铁1号线新街口站站台", "中山南路122号大洋百货(新街口店)F7层收银台(大洋百货新街口店)"},
		{"重庆市江北区寸滩街道港城东路9号3栋2单元5-1", "港城东路9号3号楼2单元5-1"},
		{"湖州市安吉县递铺镇梅灵路与机场路交叉口港中旅游公司", "梅灵路与机场路交叉口港中旅游"},
	}
	p, err := NewParser(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Compare(bases[0][0], bases[0][1]) // decode the models outside the timing
	lat := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pr := bases[i%len(bases)]
		// a room number no call has used makes both addresses new
		tail := strconv.Itoa(1000+i) + "室"
		a, c := pr[0]+tail, pr[1]+tail
		t0 := time.Now()
		_ = p.Compare(a, c)
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	reportLatencies(b, lat)
}
