package sensor

import (
	"math"
	"strings"
	"testing"
)

const mtlL1 = `GROUP = L1_METADATA_FILE
    SPACECRAFT_ID = "LANDSAT_8"
    SUN_ELEVATION = 30.0
    REFLECTANCE_MULT_BAND_4 = 2.0000E-05
    REFLECTANCE_ADD_BAND_4 = -0.100000
END_GROUP = L1_METADATA_FILE
`

func TestLandsatReflectance(t *testing.T) {
	l2 := strings.Replace(mtlL1, "SUN_ELEVATION", "PROCESSING_LEVEL = \"L2SP\"\n    SUN_ELEVATION", 1)
	tests := []struct {
		name, mtl, band string
		want            Units
		err             string
	}{
		{"L1 with sun elevation", mtlL1, "B4", Units{4e-5, -0.2}, ""},
		{"band number", mtlL1, "4", Units{4e-5, -0.2}, ""},
		{"L2 surface reflectance, no sun correction", l2, "SR_B4", Units{2e-5, -0.1}, ""},
		{"missing band", mtlL1, "B5", Units{}, "no REFLECTANCE_MULT_BAND_5"},
		{"no sun elevation", strings.Replace(mtlL1, "30.0", "-3", 1), "B4", Units{}, "SUN_ELEVATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := LandsatReflectance(ParseMTL(tt.mtl), tt.band)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(u.Scale-tt.want.Scale) > 1e-12 || math.Abs(u.Offset-tt.want.Offset) > 1e-9 {
				t.Fatalf("units %+v, want %+v", u, tt.want)
			}
		})
	}
}

func TestSentinel2Reflectance(t *testing.T) {
	l1cOld := `<n1:Level-1C_User_Product><QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE></n1:Level-1C_User_Product>`
	l1c := `<Product_Image_Characteristics><QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>
<Radiometric_Offset_List><RADIO_ADD_OFFSET band_id="0">-1000</RADIO_ADD_OFFSET><RADIO_ADD_OFFSET band_id="8">-1000</RADIO_ADD_OFFSET></Radiometric_Offset_List>`
	l2a := `<QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE>
<AOT_QUANTIFICATION_VALUE unit="none">1000.0</AOT_QUANTIFICATION_VALUE><WVP_QUANTIFICATION_VALUE unit="cm">1000.0</WVP_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>
<BOA_ADD_OFFSET_VALUES_LIST><BOA_ADD_OFFSET band_id="3">-1000</BOA_ADD_OFFSET></BOA_ADD_OFFSET_VALUES_LIST>`
	tests := []struct {
		name, xml, band string
		want            Units
	}{
		{"L1C before baseline 04.00", l1cOld, "B04", Units{1e-4, 0}},
		{"L1C offset", l1c, "B01", Units{1e-4, -0.1}},
		{"L1C offset B8A", l1c, "B8A", Units{1e-4, -0.1}},
		{"L1C no offset listed", l1c, "B02", Units{1e-4, 0}},
		{"L2A BOA, not AOT", l2a, "B04", Units{1e-4, -0.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Sentinel2Reflectance(tt.xml)
			if err != nil {
				t.Fatal(err)
			}
			if got := u[tt.band]; math.Abs(got.Scale-tt.want.Scale) > 1e-12 || math.Abs(got.Offset-tt.want.Offset) > 1e-12 {
				t.Fatalf("%s: %+v, want %+v", tt.band, got, tt.want)
			}
		})
	}
	if _, err := Sentinel2Reflectance("<xml/>"); err == nil {
		t.Fatal("metadata without a quantification value accepted")
	}
}

func TestSentinel2BandName(t *testing.T) {
	for in, want := range map[string]string{"B4": "B04", "B04": "B04", "b8a": "B8A", "B8A": "B8A", "B4, central wavelength 665 nm": "B04", "B12": "B12", "B13": "", "red": "", "B0": ""} {
		if got := Sentinel2BandName(in); got != want {
			t.Errorf("Sentinel2BandName(%q) = %q, want %q", in, got, want)
		}
	}
}
