package cntext_test

import (
	"fmt"

	"github.com/marketgeo/marketgeo/internal/cntext"
)

func Example() {
	fmt.Println(cntext.Fold("廣東省ＡＢ１２"))
	n, ok := cntext.ParseNumber("一百零五")
	fmt.Println(n, ok)
	fmt.Println(cntext.ConvertNumerals("六十八号", nil))
	// Output:
	// 广东省AB12
	// 105 true
	// 68号
}
