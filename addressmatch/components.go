package addressmatch

// Label is a component label of the CCKS2021 / GeoGLUE address annotation
// guideline.
type Label string

// Component labels.
const (
	LabelProvince     Label = "province"      // 省
	LabelCity         Label = "city"          // 地级市
	LabelDistrict     Label = "district"      // 区县
	LabelDevzone      Label = "devzone"       // 开发区/功能区 (两江新区)
	LabelTown         Label = "town"          // 乡镇/街道
	LabelCommunity    Label = "community"     // 社区/村
	LabelVillageGroup Label = "village_group" // 村民组
	LabelRoad         Label = "road"          // 路/街/巷
	LabelRoadNo       Label = "roadno"        // 门牌号
	LabelIntersection Label = "intersection"  // 交叉口
	LabelPOI          Label = "poi"           // 小区/大厦/单位
	LabelSubPOI       Label = "subpoi"        // poi 内的子单位
	LabelHouseNo      Label = "houseno"       // 楼栋
	LabelCellNo       Label = "cellno"        // 单元
	LabelFloorNo      Label = "floorno"       // 楼层
	LabelRoomNo       Label = "roomno"        // 室
	LabelDistance     Label = "distance"      // 100米
	LabelAssist       Label = "assist"        // 附近/旁边/对面
)

// Labels lists every component label in coarse-to-fine order.
func Labels() []Label {
	return []Label{LabelProvince, LabelCity, LabelDistrict, LabelDevzone, LabelTown, LabelCommunity,
		LabelVillageGroup, LabelRoad, LabelRoadNo, LabelIntersection, LabelPOI, LabelSubPOI,
		LabelHouseNo, LabelCellNo, LabelFloorNo, LabelRoomNo, LabelDistance, LabelAssist}
}

// Span is one labelled piece of the parsed string. Start and End are rune
// (code point) offsets into the string given to [Parser.Parse], End exclusive.
type Span struct {
	Label Label  `json:"label"`
	Text  string `json:"text"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Admin is the resolved administrative chain of an address: official names
// from the embedded dictionary, with levels omitted in the text filled in from
// the hierarchy (渝北区 → 重庆市). For the four municipalities City is empty.
type Admin struct {
	Province  string `json:"province,omitempty"`
	City      string `json:"city,omitempty"`
	District  string `json:"district,omitempty"`
	Town      string `json:"town,omitempty"`
	Community string `json:"community,omitempty"`
	// Code is the statistical division code of the finest resolved unit
	// (2 to 12 digits), empty when nothing was resolved.
	Code string `json:"code,omitempty"`
	// Filled lists the levels that were not written in the text but were
	// inferred from a finer unit.
	Filled []AdminLevel `json:"filled,omitempty"`
	// Ambiguous holds the candidate codes of a name that matched several units
	// (朝阳区 in 北京 and 长春) and could not be resolved from context.
	Ambiguous []string `json:"ambiguous,omitempty"`
}

// Components is the result of parsing one address.
type Components struct {
	// Input is the string that was parsed; span offsets refer to it.
	Input string `json:"input"`
	// Spans are the labelled pieces, in text order, non-overlapping.
	Spans []Span `json:"spans"`
	// Remainder is the text covered by no span (separators excluded).
	Remainder string `json:"remainder,omitempty"`
	// Admin is the resolved and filled administrative chain.
	Admin Admin `json:"admin"`
	// Issues lists inconsistencies, e.g. a district that is not in the named city.
	Issues []string `json:"issues,omitempty"`

	unit [6]int32 // resolved unit per AdminLevel, -1 if none
}

// Get returns the text of the first span with label l, or "".
func (c *Components) Get(l Label) string {
	for _, s := range c.Spans {
		if s.Label == l {
			return s.Text
		}
	}
	return ""
}

// All returns the texts of all spans with label l.
func (c *Components) All(l Label) []string {
	var out []string
	for _, s := range c.Spans {
		if s.Label == l {
			out = append(out, s.Text)
		}
	}
	return out
}
