package exchange

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/marketgeo/marketgeo/geo"
)

// Collection is the store collection the records are kept in.
const Collection = "records"

// Kind is the kind of a department record.
type Kind string

// The record kinds. Each has a Chinese name that import and the API accept
// too (see [ParseKind]).
const (
	KindLicence          Kind = "licence"           // 许可
	KindPenalty          Kind = "penalty"           // 行政处罚
	KindInspection       Kind = "inspection"        // 检查
	KindComplaint        Kind = "complaint"         // 投诉举报
	KindAnnualReport     Kind = "annual_report"     // 年报
	KindAbnormalEntry    Kind = "abnormal_entry"    // 列入经营异常名录
	KindAbnormalRemoval  Kind = "abnormal_removal"  // 移出经营异常名录
	KindBlacklistEntry   Kind = "blacklist_entry"   // 列入严重违法失信名单
	KindBlacklistRemoval Kind = "blacklist_removal" // 移出严重违法失信名单
	KindTax              Kind = "tax"               // 税务
	KindSocialInsurance  Kind = "social_insurance"  // 社保
	KindOutput           Kind = "output"            // 产值/就业
)

// kindInfo is the one list of kinds: code, Chinese name, aliases.
var kindInfo = []struct {
	k       Kind
	zh      string
	aliases []string
}{
	{KindLicence, "许可", []string{"行政许可", "license", "licence", "permit"}},
	{KindPenalty, "行政处罚", []string{"处罚", "penalty"}},
	{KindInspection, "检查", []string{"监督检查", "抽查", "inspection"}},
	{KindComplaint, "投诉举报", []string{"投诉", "举报", "complaint"}},
	{KindAnnualReport, "年报", []string{"年度报告", "annual report", "annual_report"}},
	{KindAbnormalEntry, "列入经营异常名录", []string{"经营异常", "经营异常名录", "abnormal"}},
	{KindAbnormalRemoval, "移出经营异常名录", nil},
	{KindBlacklistEntry, "列入严重违法失信名单", []string{"严重违法失信", "严重违法失信名单", "黑名单", "blacklist"}},
	{KindBlacklistRemoval, "移出严重违法失信名单", nil},
	{KindTax, "税务", []string{"纳税", "tax"}},
	{KindSocialInsurance, "社保", []string{"社会保险", "social insurance", "social_insurance"}},
	{KindOutput, "产值就业", []string{"产值", "就业", "产值/就业", "output"}},
}

// Kinds returns every record kind, in a fixed order.
func Kinds() []Kind {
	out := make([]Kind, len(kindInfo))
	for i, k := range kindInfo {
		out[i] = k.k
	}
	return out
}

// ZH returns the kind's Chinese name ("" for an unknown kind).
func (k Kind) ZH() string {
	for _, ki := range kindInfo {
		if ki.k == k {
			return ki.zh
		}
	}
	return ""
}

// ParseKind accepts a kind's code, its Chinese name or an alias (case and
// surrounding space ignored).
func ParseKind(s string) (Kind, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, ki := range kindInfo {
		if t == string(ki.k) || t == ki.zh {
			return ki.k, nil
		}
		for _, a := range ki.aliases {
			if t == a {
				return ki.k, nil
			}
		}
	}
	names := make([]string, len(kindInfo))
	for i, ki := range kindInfo {
		names[i] = string(ki.k)
	}
	return "", fmt.Errorf("%w: %q (want one of %s, or their Chinese names)", ErrUnknownKind, s, strings.Join(names, ", "))
}

// Source says where a record came from.
type Source struct {
	// File is the name of the imported file.
	File string `json:"file,omitempty"`
	// Sheet is the sheet of an Excel workbook.
	Sheet string `json:"sheet,omitempty"`
	// Row is the 1-based row (line of a CSV, row of a sheet).
	Row int `json:"row,omitempty"`
	// Key is the department's own key of the row (a decision number …),
	// when the mapping names one.
	Key string `json:"key,omitempty"`
}

// MatchInfo says how a record was attached to its entity.
type MatchInfo struct {
	// Method is how: uscc, org_code, reg_no, name_address, or api (written
	// with an entity ID).
	Method string `json:"method"`
	// Confidence is in [0, 1]: 1 for a code.
	Confidence float64 `json:"confidence"`
}

// Record is one department record about one entity.
type Record struct {
	// ID is the record's identity: dept + ":" + 16 hex digits of the hash of
	// (dept, kind, the source key), or of the content when there is no key.
	ID string `json:"id"`
	// EntityID is the USCC of the entity.
	EntityID string `json:"entity_id"`
	// Dept is the department.
	Dept string `json:"dept"`
	// Kind is the record's kind.
	Kind Kind `json:"kind"`
	// Date is the record's date, YYYY-MM-DD ("" when the table has none).
	Date string `json:"date,omitempty"`
	// Fields holds the row's other columns, by header (or mapped name).
	Fields map[string]string `json:"fields,omitempty"`
	// Source is where the record came from.
	Source Source `json:"source"`
	// Match says how the record was attached.
	Match MatchInfo `json:"match"`
	// Hash is the hash of the content (entity, dept, kind, date, fields):
	// a re-import of the same content changes nothing.
	Hash string `json:"hash"`
	// Version is the store's version of the record (set when read).
	Version uint64 `json:"version,omitempty"`
}

// Limits of a record (the store keeps one JSON document per record).
const (
	maxDeptRunes  = 64
	maxFields     = 200
	maxFieldRunes = 4000
)

// ValidateDept checks a department name: 1–64 characters, no control
// characters, no ':' (it separates the department from the hash in IDs).
func ValidateDept(d string) error {
	if d == "" || utf8.RuneCountInString(d) > maxDeptRunes || strings.TrimSpace(d) != d {
		return &FieldError{Field: "dept", Err: fmt.Errorf("%w: department %q (1-%d characters, no surrounding space)", ErrInvalidRecord, d, maxDeptRunes)}
	}
	for _, r := range d {
		if unicode.IsControl(r) || r == ':' || r == '/' || r == utf8.RuneError {
			return &FieldError{Field: "dept", Err: fmt.Errorf("%w: department %q contains %q", ErrInvalidRecord, d, r)}
		}
	}
	return nil
}

// Validate checks a record before it is stored: the one validator of
// records (imports and the store's collection both use it).
func (r *Record) Validate() error {
	if err := geo.ValidateUSCC(r.EntityID); err != nil {
		return &FieldError{Field: "entity_id", Err: fmt.Errorf("%w: %v", ErrInvalidRecord, err)}
	}
	if err := ValidateDept(r.Dept); err != nil {
		return err
	}
	if r.Kind.ZH() == "" {
		return &FieldError{Field: "kind", Err: fmt.Errorf("%w: %q", ErrUnknownKind, r.Kind)}
	}
	if r.Date != "" {
		if _, err := time.Parse(time.DateOnly, r.Date); err != nil {
			return &FieldError{Field: "date", Err: fmt.Errorf("%w: %q is not YYYY-MM-DD", ErrInvalidRecord, r.Date)}
		}
	}
	if len(r.Fields) > maxFields {
		return &FieldError{Field: "fields", Err: fmt.Errorf("%w: %d fields, at most %d", ErrInvalidRecord, len(r.Fields), maxFields)}
	}
	for k, v := range r.Fields {
		if k == "" || utf8.RuneCountInString(k) > 200 || utf8.RuneCountInString(v) > maxFieldRunes || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return &FieldError{Field: "fields", Err: fmt.Errorf("%w: field %.40q is empty, too long or not UTF-8", ErrInvalidRecord, k)}
		}
	}
	h := r.contentHash()
	if r.Hash != h {
		return &FieldError{Field: "hash", Err: fmt.Errorf("%w: hash %q is not the content's", ErrInvalidRecord, r.Hash)}
	}
	if id := recordID(r.Dept, r.identityOf(h)); r.ID != id {
		return &FieldError{Field: "id", Err: fmt.Errorf("%w: id %q is not the record's identity %q", ErrInvalidRecord, r.ID, id)}
	}
	return nil
}

// Seal computes the record's content hash and ID (from its source key when
// it has one, else from its content).
func (r *Record) Seal() {
	r.Hash = r.contentHash()
	r.ID = recordID(r.Dept, r.identityOf(r.Hash))
}

// identity is what the record's ID is the hash of: dept, kind and the
// department's key of the row, or the content hash without a key.
func (r *Record) identityOf(contentHash string) string {
	if r.Source.Key != "" {
		return r.Dept + "\x00" + string(r.Kind) + "\x00key\x00" + r.Source.Key
	}
	return r.Dept + "\x00" + string(r.Kind) + "\x00content\x00" + contentHash
}

// contentHash hashes entity, dept, kind, date and fields (sorted), not the
// source (a renamed file or moved row is the same record) nor the match.
func (r *Record) contentHash() string {
	h := sha256.New()
	w := func(s string) {
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	w(r.EntityID)
	w(r.Dept)
	w(string(r.Kind))
	w(r.Date)
	w(r.Source.Key)
	keys := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w(k)
		w(r.Fields[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func recordID(dept, identity string) string {
	s := sha256.Sum256([]byte(identity))
	return dept + ":" + hex.EncodeToString(s[:8])
}

// decodeRecord decodes a stored document.
func decodeRecord(body []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	return &r, nil
}
